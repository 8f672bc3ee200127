"""Registry of real public datasets: original location, sha256, local cache, offline mirror.

Each entry names the file's original public location (``url``) and the
sha256 of the file as distributed to this project. Files that were converted
from their source (R ``.rda`` to TSV, gzip added, renamed) say so in
``derived``: their hash cannot be checked against the original download, so
they come from a mirror or the cache only.

Lookup order for :func:`fetch`:

1. the offline mirror folder named by ``ATTED_EXPLORE_MIRROR`` (without it, a
   ``shared/data`` folder beside a source checkout, the project's convention);
2. the cache, ``ATTED_EXPLORE_CACHE`` or ``pooch.os_cache("atted_explore")``;
3. a download with pooch (verbatim files only).

Every file found is checked against its sha256.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pooch

from .. import io
from ..errors import InputError

MIRROR_ENV = "ATTED_EXPLORE_MIRROR"
CACHE_ENV = "ATTED_EXPLORE_CACHE"

GITHUB = "https://raw.githubusercontent.com"
SRSCORE = f"{GITHUB}/fusk-kpu/SRscore/c3ecb30cd04410c39a8383ed9694440293485778/data"
BIONERO = f"{GITHUB}/almeidasilvaf/BioNERO"
GOFISHER = f"{GITHUB}/yassato/GOfisher/5c29996e0fda238c40426f819b30d586df68748c/data"
GO_DB = "https://deb.debian.org/debian/pool/main/r/r-bioc-go.db/"
MAGCAT = f"{GITHUB}/nirwan1265/MAGCAT/562dacb1ed11b011377966a629867a75d5a074d4/inst/extdata/pathway"
EVOGE = f"{GITHUB}/schustischuster/evoGE/{{commit}}/orthologs/data/map_q=Athaliana.fa_s={{species}}.fa_orthodetec=RBH_eval=1E-5.csv"
CSCGR = f"{GITHUB}/gomezcan/CSCGR/eda6b85a21d938e02bb1007cd7b451e1d106730c/data"


@dataclass(frozen=True)
class Entry:
    """One registered file: ``path`` inside the mirror/cache, how :func:`load` reads it (``kind``)."""

    name: str
    path: str
    sha256: str
    url: str
    kind: str
    description: str
    derived: str | None = None


def _rbh(species: str, commit: str, sha256: str) -> Entry:
    return Entry(
        f"ath_vs_{species.lower()}_rbh",
        f"orthologs/Ath_vs_{species}_RBH.csv.gz",
        sha256,
        EVOGE.format(commit=commit, species=species),
        "rbh",
        f"reciprocal best hits Arabidopsis thaliana vs {species} (transcript IDs, ';'-separated)",
        "renamed and gzipped",
    )


def _pmn(database: str, sha256: str) -> Entry:
    return Entry(
        database,
        f"pathways/{database}_pathways.20230103.gz",
        sha256,
        f"{MAGCAT}/{database}_pathways.20230103",
        "gene_sets",
        f"Plant Metabolic Network {database} pathway table (2023-01-03)",
        "gzipped",
    )


ENTRIES: tuple[Entry, ...] = (
    Entry(
        "ath_hypoxia_expression",
        "ath_hypoxia/expression.tsv.gz",
        "3d60e6e96005dabc05c09719c1e10557b804a5dc73b9c5d96f62085273711154",
        f"{SRSCORE}/TPMHypoxia.rda",
        "expression",
        "Arabidopsis RNA-seq TPM, 1,000 transcripts (AGI.1) x 58 runs",
        "R data converted to TSV",
    ),
    Entry(
        "ath_hypoxia_samples",
        "ath_hypoxia/samples.tsv",
        "93eb7d5fb03c8cff80216a63bed580b8d354937d3f2ef637d0ac4722d279dbff",
        f"{SRSCORE}/MetadataHypoxia.rda",
        "samples",
        "hypoxia/normoxia run pairs (paired wide table), 6 SRA studies",
        "R data converted to TSV",
    ),
    Entry(
        "maize_expression",
        "maize_rice_tissues/maize_expression.tsv.gz",
        "b6549df2b63baabfd89d92e7e78063610f070ce93de38bcc6ab2f5c837c1c574",
        f"{BIONERO}/a062c8e681cbaff86597ff1d83032455110533ef/data/zma.se.rda",
        "expression",
        "maize TPM, 10,802 genes (Zm00001d v4) x 28 samples",
        "R data converted to TSV",
    ),
    Entry(
        "maize_samples",
        "maize_rice_tissues/maize_samples.tsv",
        "cad8f07bd18a5620af17a03de1d5994a4eaeddb5acd668b7342c41ed56202b56",
        f"{BIONERO}/a062c8e681cbaff86597ff1d83032455110533ef/data/zma.se.rda",
        "samples",
        "maize sample -> tissue",
        "R data converted to TSV",
    ),
    Entry(
        "rice_expression",
        "maize_rice_tissues/rice_expression.tsv.gz",
        "d13e8ad7602799354c19d07ffd46b06b9fbcbbf6a4168df63a428b228001a1b2",
        f"{BIONERO}/a062c8e681cbaff86597ff1d83032455110533ef/data/osa.se.rda",
        "expression",
        "rice TPM, 7,647 genes (RAP IDs) x 27 samples",
        "R data converted to TSV",
    ),
    Entry(
        "rice_samples",
        "maize_rice_tissues/rice_samples.tsv",
        "fb36ff222d039aabbe18ce82bcf6173b6cfd724535b3de3d630ecab4160033ce",
        f"{BIONERO}/a062c8e681cbaff86597ff1d83032455110533ef/data/osa.se.rda",
        "samples",
        "rice sample -> tissue",
        "R data converted to TSV",
    ),
    Entry(
        "maize_rice_orthogroups",
        "maize_rice_tissues/orthogroups.tsv.gz",
        "e54751636f73835b367cb97ebf70b3b70af49093af99643b6c8bdf420713a3b9",
        f"{BIONERO}/5a541270c2fd3d5ae16e243c313a5b129cc8438d/data/og.zma.osa.rda",
        "orthogroups",
        "PLAZA 4.0 monocots orthogroups for maize (zma) and rice (osa)",
        "R data converted to TSV",
    ),
    Entry(
        "ath_go",
        "annotation/ath_go.tsv.gz",
        "45284c0894a27da0dd5a632c8d734f86381b96608dc37732b26e5e6786aeefde",
        f"{GOFISHER}/ulg.rda",
        "go",
        "Arabidopsis locus -> GO (TAIR GO slim with parent terms)",
        "R data converted to TSV",
    ),
    Entry(
        "go_terms",
        "annotation/go_terms.tsv.gz",
        "d1cf58107ed33930f4f17ed2921065d8492bb19400b74d6d950d8e39526915d2",
        GO_DB,
        "table",
        "GO term names, ontology and definitions (go-basic 2022-07-01)",
        "exported from GO.sqlite of Debian r-bioc-go.db 3.16.0",
    ),
    Entry(
        "go_parents",
        "annotation/go_parents.tsv.gz",
        "8a6e51a928a98b0de79eae57ee2ab3ac26c6603bb6a0e50da8a3e88ee933ced2",
        GO_DB,
        "go_parents",
        "GO parent links (is_a, part_of, regulates)",
        "exported from GO.sqlite of Debian r-bioc-go.db 3.16.0",
    ),
    _pmn("aracyc", "918067676b904d57c68cb5b95513f46e946bd203bfe8bb7a69729a6ee5971bc8"),
    _pmn("oryzacyc", "16ab2c1781e0cbbe945154bf63ee0325fe57f41f574a5237017596b98bee2d73"),
    _pmn("corncyc", "4c13ed917404eeb6dd28de570f8d2083a5a630ed22252d458212f338891ec0d6"),
    _pmn("soycyc", "5e1a0b5a538fea5812e2e3be6fbb21ebeae44caf4bc84b6d37192ec418589034"),
    _pmn("tomatocyc", "31949fcbc3472e3255a9c8b24ca6d3d57796f261882405c684e477ffc306ef1a"),
    _pmn("brachypodiumcyc", "688ce553b3246bed45e534ee827b716873086c06e8c6f6e8305d29cdfa5e188b"),
    _rbh("Alyrata", "6f81792b615de464c9a00e595e2b331cf66a0070", "5f68364562694390bf46e2009e38f9077c57aea121ddc54bc0753e02cd52de2f"),
    _rbh("Bdistachyon", "2911f123ef4feb61a71ba22e4b1182db69ecb485", "89cf472f975c88866a371d1aeb107e9e2e751278354db457dba58f7ff5add8cf"),
    _rbh("Crubella", "93d14a443916d91c8df821464d9dde469fd6e52b", "8900ba73cec99a10b15a03a60fc304b119c8540b525356cb99dfe9964c48cd8f"),
    _rbh("Esalsugineum", "f7f9fd3db32fcdc1b918322422619848b18804c8", "b2239a59500572ac85d77254ea86c85e56b17e61dbc968c75972ba0d4ed0d3d3"),
    _rbh("Mtruncatula", "6ad13934f2258be6c77a94d172adced82418841a", "453b3382209273497e0a0870b33372d09bd7313c58451be2366673dd094ad7e8"),
    _rbh("Thalophila", "d5b98c87f77079a33be6755450205aa3d2792324", "b7f7f620e4057b2324032080c988e8c2ab9af0d1a3e44a7e71ee7bccdb14ff5c"),
    Entry(
        "atted_sample_list",
        "atted/Ath-r.G25296-S1401.list.txt",
        "d0f8427e2dfe0efc98652b3a5f6a7d3001fa4cbe8baffdaa32fba9be2c753c18",
        f"{CSCGR}/Ath-r.G25296-S1401.list.txt",
        "sample_list",
        "an ATTED-II Arabidopsis RNA-seq run list: run, study, study title (1,409 runs)",
    ),
)
REGISTRY: dict[str, Entry] = {entry.name: entry for entry in ENTRIES}


def entry(name: str) -> Entry:
    """The registry entry called ``name`` (InputError listing the names otherwise)."""
    if name not in REGISTRY:
        raise InputError(f"dataset {name!r} is not registered; known datasets: {sorted(REGISTRY)}")
    return REGISTRY[name]


def mirror_folder() -> Path | None:
    """The offline mirror: ``$ATTED_EXPLORE_MIRROR``, else ``shared/data`` beside a source checkout."""
    if os.environ.get(MIRROR_ENV):
        return Path(os.environ[MIRROR_ENV])
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "data"
    return beside_checkout if beside_checkout.is_dir() else None


def cache_folder() -> Path:
    """The download cache: ``$ATTED_EXPLORE_CACHE`` or pooch's OS cache for ``atted_explore``."""
    return Path(os.environ.get(CACHE_ENV) or pooch.os_cache("atted_explore"))


def _verified(path: Path, item: Entry) -> Path:
    digest = pooch.file_hash(str(path), alg="sha256")
    if digest != item.sha256:
        raise InputError(
            f"{path}: sha256 {digest} does not match dataset {item.name!r} (expected {item.sha256}); "
            "the file is corrupt or a different version"
        )
    return path


def fetch(name: str) -> Path:
    """Local path of a registered file (mirror, then cache, then download), sha256-checked."""
    item = entry(name)
    mirror = mirror_folder()
    if mirror is not None and (mirror / item.path).is_file():
        return _verified(mirror / item.path, item)
    cached = cache_folder() / item.path
    if cached.is_file():
        return _verified(cached, item)
    where = f"{MIRROR_ENV}={mirror}" if mirror is not None else f"{MIRROR_ENV} is not set"
    if item.derived:
        raise InputError(
            f"dataset {name!r}: {item.path} is not in the offline mirror ({where}) nor in the cache {cache_folder()}; "
            f"it is derived from {item.url} ({item.derived}) so it cannot be downloaded as is: "
            f"set {MIRROR_ENV} to a folder holding {item.path}"
        )
    try:
        downloaded = pooch.retrieve(
            item.url,
            known_hash=f"sha256:{item.sha256}",
            fname=Path(item.path).name,
            path=cached.parent,
            progressbar=False,
        )
    except Exception as error:  # requests/pooch raise many types for network and hash failures
        raise InputError(
            f"dataset {name!r}: not in the offline mirror ({where}) nor in the cache, and the download from "
            f"{item.url} failed ({type(error).__name__}: {error}); set {MIRROR_ENV} to a folder holding {item.path}"
        ) from None
    return Path(downloaded)


def load_file(name: str):
    """A registered file, read with its reader.

    Files give: ``expression`` -> ``xarray.DataArray`` (log2); ``samples``,
    ``go``, ``go_parents``, ``table``, ``orthogroups``, ``rbh``,
    ``sample_list`` -> ``pandas.DataFrame``; ``gene_sets`` ->
    :class:`~atted_explore.io.GeneSets`.
    """
    item = entry(name)
    path = fetch(name)
    readers = {
        "expression": lambda: io.read_expression(path, combine_isoforms="sum", id_rule=io.id_rule(None)),
        "samples": lambda: io.read_samples(path),
        "go": lambda: io.read_go_annotations(path),
        "go_parents": lambda: io.read_go_parents(path),
        "table": lambda: io.read_table(path),
        "gene_sets": lambda: io.read_gene_sets(path),
        "orthogroups": lambda: io.read_orthogroups(path),
        "rbh": lambda: io.read_rbh(path),
        "sample_list": lambda: io.read_sample_list(path),
    }
    return readers[item.kind]()
