"""ATTED-II bulk-download reader on small folders written in the ATTED-II layouts."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

from atted_explore.atlas import validate_node
from atted_explore.errors import InputError
from atted_explore.io import parse_folder_name, read_atted, read_sample_list

GENES = ["814630", "814631", "814632", "814633", "814634"]
RUNS = ["DRR001", "DRR002", "SRR003"]
COEX = "Ath-r.v22-05.G5-S3.combat_pca.subagging.ls.d"


def coex_value(query: int, partner: int) -> float:
    """A symmetric, distinct score per pair so the expected order is known."""
    return round(10.0 - abs(query - partner) - 0.1 * (query + partner), 3)


def write_coex_folder(folder, kind="ls"):
    folder.mkdir(parents=True)
    for q, gene in enumerate(GENES):
        lines = []
        for p, partner in enumerate(GENES):
            if p == q:
                continue
            if kind == "mrgeo":
                lines.append(f"{partner}\t{abs(q - p) + 0.01 * p:.2f}\t{1 - abs(q - p) / 10:.2f}")
            else:
                lines.append(f"{partner}\t{coex_value(q, p)}")
        (folder / gene).write_text("\n".join(lines) + "\n")
    return folder


def write_platform_folder(root, zip_coex=False):
    folder = root / "Ath-r.c7-0"
    folder.mkdir(parents=True)
    header = "gene\t" + "\t".join(RUNS)
    rows = [f"{g}\t" + "\t".join(f"{(i + 1) * (j + 2) / 3:.3f}" for j in range(3)) for i, g in enumerate(GENES)]
    (folder / "Ath-r.c7-0.expression.combat.txt").write_text("\n".join([header, *rows]) + "\n")
    pcs = [f"{g}\t{i * 0.5:.2f}\t{-i * 0.25:.2f}" for i, g in enumerate(GENES)]
    (folder / "Ath-r.c7-0.expression.PC.txt").write_text("\n".join(["gene\tPC1\tPC2", *pcs]) + "\n")
    (folder / "Ath-r.c7-0.id-id-title.txt").write_text(
        "DRR001\tDRP01\tHeat <b>stress</b> in leaves\nDRR002\tDRP01\tHeat <b>stress</b> in leaves\nSRR003\tSRP02\tRoots\n"
    )
    (folder / "Ath-r.c7-0.run_info.txt").write_text("run\ttissue\ttreatment\nDRR001\tleaf\theat\nDRR002\tleaf\tcontrol\nSRR003\troot\tnone\n")
    (folder / "Ath-r.c7-0.study_info.txt").write_text("DRP01\tHeat study\nSRP02\tRoot atlas\n")
    (folder / "Ath-r.c7-0.umap.txt").write_text("".join(f"{g}\t{i}.5\t{-i}.5\n" for i, g in enumerate(GENES)))
    (folder / "Ath-r.c7-0_chlo.umap.txt").write_text(f"{GENES[0]}\t1\t2\n{GENES[3]}\t3\t4\n")
    (folder / "date").write_text("2022.05.01\n")
    (folder / "method").write_text("m21\n")
    (folder / "type").write_text("ls\n")
    (folder / "KEGG").write_text("12.34\n")
    (folder / "genes.txt").write_text("\n".join(GENES) + "\n")
    (folder / "pc_select_run.txt").write_text("ignored\n")
    coex = write_coex_folder(folder / COEX)
    if zip_coex:
        with zipfile.ZipFile(folder / f"{COEX}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(coex.iterdir()):
                archive.write(path, f"{COEX}/{path.name}")
        shutil.rmtree(coex)
    return folder


def test_names_parse_without_known_dataset_ids():
    assert parse_folder_name("Ath-r.v22-05.G18957-S14741.combat_pca.subagging.ls.d.zip") == {
        "code": "Ath", "platform": "r", "version": "22-05", "genes": 18957, "samples": 14741,
        "method": "combat_pca.subagging", "kind": "ls",
    }
    assert parse_folder_name("Osa-m.c5-1") == {"code": "Osa", "platform": "m", "dataset": "c5-1"}
    assert parse_folder_name("Hsa-r.v21-11.G16808-S60463.combat_pca.subagging.z.d")["kind"] == "z"


def test_platform_folder_becomes_a_complete_node(tmp_path):
    node = read_atted(write_platform_folder(tmp_path))
    validate_node(node, "Ath-r")
    assert node.attrs["node"] == "Ath-r" and node.attrs["species"] == "Arabidopsis thaliana"
    assert node.attrs["atted_version"] == "22-05" and node.attrs["atted_genes"] == 5 and node.attrs["atted_samples"] == 3
    assert node.attrs["atted_dataset"] == "c7-0" and node.attrs["atted_method"] == "m21"
    assert node.attrs["function_score"] == pytest.approx(12.34)
    assert list(node["gene"].values) == GENES and list(node["sample"].values) == RUNS
    assert float(node["expression"].sel(gene=GENES[1], sample="SRR003")) == pytest.approx(2 * 4 / 3, abs=1e-3)
    assert node["sample"].coords["study"].values.tolist() == ["DRP01", "DRP01", "SRP02"]
    assert node["tissue"].values.tolist() == ["leaf", "leaf", "root"]
    assert node["study_title"].values.tolist() == ["Heat study", "Heat study", "Root atlas"]
    assert node["title"].values[0] == "Heat <b>stress</b> in leaves"  # kept verbatim; views escape it
    # coexpression: partners ordered by decreasing score, self excluded
    for q, gene in enumerate(GENES):
        expected = sorted((p for p in range(5) if p != q), key=lambda p: -coex_value(q, p))
        assert node["coex_partner"].sel(gene=gene).values.tolist() == expected
        np.testing.assert_allclose(node["coex_score"].sel(gene=gene).values, [coex_value(q, p) for p in expected], rtol=1e-6)
    assert node["gene_score"].shape == (5, 2) and float(node["gene_score"].sel(gene=GENES[2], pc=1)) == 1.0
    assert list(node["subset"].values) == ["all", "chloroplast"]
    chloroplast = node["coexmap"].sel(subset="chloroplast")
    assert np.isnan(chloroplast.sel(gene=GENES[1])).all() and chloroplast.sel(gene=GENES[3]).values.tolist() == [3, 4]


def test_zipped_layouts_read_the_same_as_folders(tmp_path):
    plain = read_atted(write_platform_folder(tmp_path / "plain"))
    zipped_coex = read_atted(write_platform_folder(tmp_path / "zc", zip_coex=True))
    folder = write_platform_folder(tmp_path / "zall")
    archive = shutil.make_archive(str(tmp_path / "Ath-r.c7-0"), "zip", root_dir=folder.parent, base_dir=folder.name)
    whole = read_atted(archive)
    for other in (zipped_coex, whole):
        np.testing.assert_array_equal(other["coex_partner"].values, plain["coex_partner"].values)
        np.testing.assert_array_equal(other["expression"].values, plain["expression"].values)
    assert not list(tmp_path.glob("**/atted-read-*"))  # the scratch extraction is cleaned up


def test_top_k_keeps_the_strongest_partners(tmp_path):
    node = read_atted(write_platform_folder(tmp_path), top_k=2)
    assert node.sizes["rank"] == 2 and list(node["rank"].values) == [1, 2]
    assert node["coex_partner"].sel(gene=GENES[0]).values.tolist() == [1, 2]


def test_coexpression_folder_alone_and_old_mrgeo_files(tmp_path):
    node = read_atted(write_coex_folder(tmp_path / COEX))
    assert list(node["gene"].values) == GENES and "expression" not in node
    mrgeo = read_atted(write_coex_folder(tmp_path / "Ath-m.v11-01.G5-S9.mrgeo.mrgeo.d", kind="mrgeo"))
    assert mrgeo.attrs["platform"] == "m"
    mr = mrgeo["coex_mr"].sel(gene=GENES[2]).values
    assert (np.diff(mr) > 0).all()  # smaller mutual rank first
    assert mrgeo["coex_partner"].sel(gene=GENES[2]).values.tolist()[:2] == [1, 3]
    assert mrgeo["coex_score"].sel(gene=GENES[2]).values[0] == pytest.approx(0.9)


def test_real_atted_sample_list(shared_data):
    path = shared_data / "atted" / "Ath-r.G25296-S1401.list.txt"
    parsed = parse_folder_name(path.name)
    assert parsed == {"code": "Ath", "platform": "r", "genes": 25296, "samples": 1401}
    samples = read_sample_list(path)
    assert samples.index.is_unique and len(samples) == 1409
    assert samples["study"].nunique() == 140
    assert samples.loc["DRR008476", "study"] == "DRP001015"


def test_real_sample_list_annotates_a_platform_folder(tmp_path, shared_data):
    folder = tmp_path / "Ath-r.c9-9"
    folder.mkdir()
    shutil.copy(shared_data / "atted" / "Ath-r.G25296-S1401.list.txt", folder)
    runs = read_sample_list(folder / "Ath-r.G25296-S1401.list.txt").index[:4]
    (folder / "Ath-r.c9-9.expression.combat.txt").write_text(
        "gene\t" + "\t".join(runs) + "\n" + "".join(f"{g}\t" + "\t".join(["1.5"] * 4) + "\n" for g in GENES)
    )
    node = read_atted(folder)
    assert list(node["sample"].values) == list(runs)
    assert node["study"].values.tolist() == ["DRP001015"] * 3 + ["DRP002301"]
    assert node["title"].values[0].startswith("Mechanism") and node["title"].values[3].startswith("RNAseq of PhyAB")


# ------------------------------------------------------------------ whatever the folder is called


def _same_node(node, reference):
    assert node.attrs["node"] == "Ath-r" and node.attrs["species"] == "Arabidopsis thaliana"
    np.testing.assert_array_equal(node["coex_partner"].values, reference["coex_partner"].values)
    np.testing.assert_array_equal(node["expression"].values, reference["expression"].values)
    assert list(node["sample"].values) == RUNS


def test_a_renamed_download_folder_reads_the_same(tmp_path):
    reference = read_atted(write_platform_folder(tmp_path / "ref"))
    renamed = write_platform_folder(tmp_path / "other").rename(tmp_path / "my ATTED download (1)")
    node = read_atted(renamed)
    _same_node(node, reference)
    # species, platform and dataset from the files inside, version and counts from the coexpression folder
    assert node.attrs["atted_dataset"] == "c7-0" and node.attrs["atted_version"] == "22-05"
    assert node.attrs["atted_genes"] == 5 and node.attrs["coex_method"].endswith("(ls)")
    archive = shutil.make_archive(str(tmp_path / "download"), "zip", root_dir=renamed.parent, base_dir=renamed.name)
    _same_node(read_atted(archive), reference)


def test_files_named_by_a_versioned_prefix_in_any_folder(tmp_path):
    folder = tmp_path / "expression_files"
    folder.mkdir()
    prefix = "Osa-r.v21-11.G5-S3"
    header = "gene\t" + "\t".join(RUNS)
    (folder / f"{prefix}.expression.combat.txt").write_text(
        "\n".join([header, *(f"{g}\t1.5\t2.5\t{i}.25" for i, g in enumerate(GENES))]) + "\n"
    )
    (folder / f"{prefix}.run_info.txt").write_text("run\ttissue\n" + "".join(f"{r}\tleaf\n" for r in RUNS))
    node = read_atted(folder)
    assert node.attrs["node"] == "Osa-r" and node.attrs["species"] == "Oryza sativa"
    assert node.attrs["atted_version"] == "21-11" and node.attrs["atted_samples"] == 3
    assert node["tissue"].values.tolist() == ["leaf"] * 3


def test_a_coexpression_folder_inside_any_folder(tmp_path):
    write_coex_folder(tmp_path / "unzipped" / COEX)
    node = read_atted(tmp_path / "unzipped")
    assert node.attrs["node"] == "Ath-r" and node.attrs["atted_version"] == "22-05" and list(node["gene"].values) == GENES


def test_nothing_inside_names_the_species(tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    header = "gene\t" + "\t".join(RUNS)
    (folder / "mine.expression.combat.txt").write_text("\n".join([header, *(f"{g}\t1\t2\t3" for g in GENES)]) + "\n")
    with pytest.raises(InputError, match=r"download: nothing inside names the species and platform.*node='Ath-r'"):
        read_atted(folder)
    node = read_atted(folder, node="Gma-r")  # the user names it
    assert node.attrs["node"] == "Gma-r" and node.attrs["species"] == "Glycine max" and node.sizes["gene"] == 5
    with pytest.raises(InputError, match="node 'soy': expected a species platform such as 'Ath-r'"):
        read_atted(folder, node="soy")


def test_names_that_disagree_are_refused(tmp_path):
    folder = write_platform_folder(tmp_path / "mixed")
    write_coex_folder(folder / "Osa-r.v22-05.G5-S3.combat_pca.subagging.ls.d")
    with pytest.raises(InputError, match="files inside name different species platforms"):
        read_atted(folder)
    misnamed = write_platform_folder(tmp_path / "x").rename(tmp_path / "Osa-r.c1-0")
    with pytest.raises(InputError, match=r"the folder name 'Osa-r.c1-0' says Osa-r but .* inside is Ath-r"):
        read_atted(misnamed)
    with pytest.raises(InputError, match=r"node says Zma-r but .* inside is Ath-r"):
        read_atted(write_platform_folder(tmp_path / "y"), node="Zma-r")
