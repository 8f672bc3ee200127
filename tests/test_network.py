"""Networks of a gene list on the demo atlas: edges, planted modules, projection to another species, exports."""

from __future__ import annotations

import io
import json
import math

import networkx as nx
import numpy as np
import pytest

import atted_explore as ae
from atted_explore import InputError
from atted_explore.compute.gene_network import DEFAULT_MAX_RANK, parse_gene_list
from atted_explore.compute.network_export import edge_list, graphml_bytes
from atted_explore.compute.network_projection import mark_conserved



@pytest.fixture(scope="module")
def atlas(analysed_atlas):
    return analysed_atlas


@pytest.fixture(scope="module")
def node(atlas):
    """Ath-r without its CoexMaps: the tests below plant the map modules they check."""
    return atlas["Ath-r"].to_dataset().load().drop_vars(["coexmap", "coexmap_module", "subset", "xy"], errors="ignore")


@pytest.fixture(scope="module")
def conserved_genes(atlas, node):
    module = atlas.attrs["truth_conserved_module"]
    return [str(g) for g in node["gene"].values[node["truth_module"].values == module]]


@pytest.fixture(scope="module")
def background_genes(node):
    """40 genes in no planted module (seeded draw)."""
    outside = node["gene"].values[node["truth_module"].values == ""]
    return [str(g) for g in np.random.default_rng(0).choice(outside, 40, replace=False)]


def brute_force_edges(node, genes: list[str], max_rank: int, min_score: float | None) -> set[frozenset]:
    """Edges by the documented rule, gene by gene from the tables."""
    position = {g: k for k, g in enumerate(node["gene"].values.astype(str))}
    names = node["gene"].values.astype(str)
    edges = set()
    for gene in genes:
        partners = node["coex_partner"].values[position[gene]]
        scores = node["coex_score"].values[position[gene]]
        for rank, (partner, score) in enumerate(zip(partners, scores, strict=True), start=1):
            other = names[partner]
            passes = rank <= max_rank or (min_score is not None and score >= min_score)
            if other in genes and other != gene and passes:
                edges.add(frozenset((gene, other)))
    return edges


# ------------------------------------------------------------------ edges and nodes


@pytest.mark.parametrize(("max_rank", "min_score"), [(None, None), (5, None), (3, 2.5), (0, 2.8)])
def test_edges_follow_the_documented_rule(node, conserved_genes, background_genes, max_rank, min_score):
    genes = conserved_genes[:20] + background_genes[:20]
    graph = ae.network(node, genes, max_rank=max_rank, min_score=min_score, name="Ath-r")
    expected = brute_force_edges(node, genes, DEFAULT_MAX_RANK if max_rank is None else max_rank, min_score)
    assert {frozenset(e) for e in graph.edges()} == expected
    assert expected  # the rule draws some edges on this list
    for a, b, data in graph.edges(data=True):
        assert data["rank"] <= (max_rank or DEFAULT_MAX_RANK) or data["score"] >= min_score
        assert data["mr"] > 0
    assert dict(graph.degree()) == nx.get_node_attributes(graph, "degree")


def test_planted_module_is_denser_inside_than_across(node, conserved_genes, background_genes):
    """Measure: edge density inside the module, edges / (m (m - 1) / 2), against the density of
    module-background pairs, edges / (m * b), with the default rule; the planted module must be >= 5x denser."""
    graph = ae.network(node, conserved_genes + background_genes, name="Ath-r")
    module = set(conserved_genes)
    inside = sum(1 for a, b in graph.edges() if a in module and b in module)
    across = sum(1 for a, b in graph.edges() if (a in module) != (b in module))
    m, b = len(conserved_genes), len(background_genes)
    inside_density, across_density = inside / (m * (m - 1) / 2), across / (m * b)
    print(f"module {m} genes + {b} background: density inside {inside_density:.3f}, across {across_density:.4f}")
    assert inside_density > 0.15
    assert inside_density >= 5 * across_density


def test_genes_by_id_symbol_case_and_isoform_unknown_kept(node):
    gene, symbol = str(node["gene"].values[2]), str(node["symbol"].values[2])
    other = str(node["gene"].values[3])
    text = f"{gene.lower()}.1,\n{symbol.lower()} ; {other}  NOT_A_GENE <b>x</b>"
    graph = ae.network(node, text, name="Ath-r")
    assert set(graph) == {gene, other, *node["gene"].values[node["symbol"].values == symbol].astype(str)}
    assert graph.graph["unknown"] == "NOT_A_GENE, <b>x</b>"  # raw: the view escapes what it shows
    assert graph.graph["n_unknown"] == 2
    assert parse_gene_list(["a, b", "b c"]) == ["a", "b", "c"]


def test_node_attributes_annotation_and_layout(node, conserved_genes):
    graph = ae.network(node, conserved_genes, name="Ath-r", seed=3)
    gene = conserved_genes[0]
    data = graph.nodes[gene]
    assert data["symbol"] == str(node["symbol"].sel(gene=gene).values)
    assert data["description"] == str(node["description"].sel(gene=gene).values)
    assert "chloroplast" in data["localization"]
    assert data["module"] == -1 and graph.graph["module_subset"] == ""  # no CoexMap modules on this node
    xy = np.array([[d["x"], d["y"]] for _, d in graph.nodes(data=True)])
    assert np.isfinite(xy).all()
    distances = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1)) + np.eye(len(xy)) * 1e9
    assert distances.min() > 0.3  # no two genes drawn on top of each other
    again = ae.network(node, conserved_genes, name="Ath-r", seed=3)
    assert nx.get_node_attributes(again, "x") == nx.get_node_attributes(graph, "x")  # seeded


def test_coexmap_modules_fill_the_module_attribute(node, conserved_genes):
    modules = np.full((node.sizes["gene"], 2), -1, dtype=np.int32)
    modules[:, 0] = np.arange(node.sizes["gene"]) % 7
    modules[:, 1] = np.arange(node.sizes["gene"]) % 3
    with_modules = node.assign(coexmap_module=(("gene", "subset"), modules)).assign_coords(
        subset=["all", "chloroplast"]
    )
    graph = ae.network(with_modules, conserved_genes, name="Ath-r")
    position = node.indexes["gene"].get_loc(conserved_genes[0])
    assert graph.nodes[conserved_genes[0]]["module"] == position % 7
    assert graph.graph["module_subset"] == "all"
    graph = ae.network(with_modules, conserved_genes, name="Ath-r", module_subset="chloroplast")
    assert graph.nodes[conserved_genes[0]]["module"] == position % 3
    with pytest.raises(InputError, match="subsets are"):
        ae.network(with_modules, conserved_genes, module_subset="nucleus")


def test_add_partners_grows_one_gene_into_its_neighbourhood(node, conserved_genes):
    gene = conserved_genes[0]
    graph = ae.network(node, [gene], add_partners=8, name="Ath-r")
    top = node["gene"].values[node["coex_partner"].sel(gene=gene).values[:8]].astype(str)
    assert set(graph) == {gene, *top}
    assert graph.nodes[gene]["query"] and not any(graph.nodes[g]["query"] for g in top)
    assert graph.degree(gene) == 8


# ------------------------------------------------------------------ projection


@pytest.mark.parametrize("target", ["Osa-r", "Zma-r"])
def test_conserved_module_keeps_more_edges_than_chance(atlas, node, conserved_genes, target):
    graph = ae.network(node, conserved_genes, name="Ath-r")
    projected = ae.project_network(atlas, graph, "Ath-r", target)
    stats = projected.graph
    print(f"{target}: {stats['conserved_edges']} of {stats['source_edges']} edges conserved, "
          f"{stats['lost_edges']} lost, {stats['untested_edges']} untested; expected by chance "
          f"{stats['expected_conserved']:.1f}; pairs linked {stats['ortholog_pairs_linked']} of "
          f"{stats['ortholog_pairs_tested']} (expected {stats['expected_linked']:.1f}), p = {stats['p_value']:.2g}")
    assert stats["p_value"] < 0.01
    assert stats["conserved_edges"] >= 2 * stats["expected_conserved"]
    assert stats["conserved_edges"] + stats["lost_edges"] + stats["untested_edges"] == graph.number_of_edges()
    orthologs = ae.atlas.orthologs(atlas)
    groups = set(orthologs[(orthologs["node"] == "Ath-r") & orthologs["gene"].isin(conserved_genes)]["group"])
    expected_nodes = set(orthologs[(orthologs["node"] == target) & orthologs["group"].isin(groups)]["gene"])
    assert set(projected) == expected_nodes
    marked = mark_conserved(graph, projected)
    assert sum(nx.get_edge_attributes(marked, "conserved").values()) == stats["conserved_edges"]
    conserved_targets = [e for e, flag in nx.get_edge_attributes(projected, "conserved").items() if flag]
    assert len(conserved_targets) == stats["ortholog_pairs_linked"]
    for a, b in conserved_targets:  # each conserved target edge joins orthologs of a source edge
        sources_a, sources_b = (projected.nodes[g]["orthologs"].split(", ") for g in (a, b))
        assert any(graph.has_edge(x, y) for x in sources_a for y in sources_b)


def test_random_genes_keep_about_the_chance_number(atlas, node, background_genes):
    """Control for the test above: background genes are conserved no more than chance allows."""
    graph = ae.network(node, background_genes, max_rank=20, name="Ath-r")
    stats = ae.project_network(atlas, graph, "Ath-r", "Zma-r").graph
    assert stats["p_value"] > 1e-3
    assert stats["conserved_edges"] <= stats["expected_conserved"] + 3 * math.sqrt(stats["expected_conserved"]) + 1


def test_projection_errors(atlas, node, conserved_genes):
    graph = ae.network(node, conserved_genes, name="Ath-r")
    with pytest.raises(InputError, match="both 'Ath-r'"):
        ae.project_network(atlas, graph, "Ath-r", "Ath-r")
    with pytest.raises(InputError, match="no species node 'Xyz-r'"):
        ae.project_network(atlas, graph, "Ath-r", "Xyz-r")
    outside = [str(g) for g in node["gene"].values if g not in set(ae.atlas.orthologs(atlas)["gene"])][:5]
    with pytest.raises(InputError, match="has an ortholog in Osa-r"):
        ae.project_network(atlas, ae.network(node, outside, name="Ath-r"), "Ath-r", "Osa-r")


# ------------------------------------------------------------------ exports


def test_graphml_round_trip_keeps_nodes_edges_and_attributes(atlas, node, conserved_genes, tmp_path):
    graph = ae.network(node, conserved_genes + ["unknown_gene"], name="Ath-r")
    projected = ae.project_network(atlas, graph, "Ath-r", "Zma-r")
    for original in (graph, mark_conserved(graph, projected), projected):
        path = tmp_path / "network.graphml"
        nx.write_graphml(original, path)  # the graph as it is
        read = nx.read_graphml(path)
        assert set(read) == set(original)
        assert {frozenset(e) for e in read.edges()} == {frozenset(e) for e in original.edges()}
        assert dict(read.nodes(data=True)) == dict(original.nodes(data=True))
        assert {frozenset((a, b)): d for a, b, d in read.edges(data=True)} == {
            frozenset((a, b)): d for a, b, d in original.edges(data=True)
        }
        assert {k: v for k, v in read.graph.items() if not k.endswith("_default")} == original.graph
        assert graphml_bytes(original) == path.read_bytes()


def test_cytoscape_json_has_the_documented_shape(node, conserved_genes):
    graph = ae.network(node, conserved_genes, name="Ath-r")
    document = json.loads(json.dumps(ae.to_cytoscape(graph)))  # plain JSON types
    nodes, edges = document["elements"]["nodes"], document["elements"]["edges"]
    assert len(nodes) == graph.number_of_nodes() and len(edges) == graph.number_of_edges()
    ids = {n["data"]["id"] for n in nodes}
    assert ids == set(graph)
    for element in nodes:
        assert isinstance(element["position"]["x"], float) and isinstance(element["position"]["y"], float)
        assert element["data"]["name"] == (graph.nodes[element["data"]["id"]]["symbol"] or element["data"]["id"])
    edge_ids = [e["data"]["id"] for e in edges]
    assert len(set(edge_ids)) == len(edge_ids)
    for element in edges:
        assert element["data"]["source"] in ids and element["data"]["target"] in ids
        assert graph.has_edge(element["data"]["source"], element["data"]["target"])
        assert isinstance(element["data"]["score"], float)
    assert document["data"]["species"] == "Ath-r"


def test_tsv_edge_list(node, conserved_genes):
    graph = ae.network(node, conserved_genes, name="Ath-r")
    table = edge_list(graph)
    assert list(table.columns) == ["source", "target", "source_symbol", "target_symbol", "score", "rank", "mr"]
    assert len(table) == graph.number_of_edges()
    first = table.iloc[0]
    assert first["source_symbol"] == graph.nodes[first["source"]]["symbol"]


# ------------------------------------------------------------------ bad input


def test_bad_inputs_give_clear_errors(node, conserved_genes, background_genes):
    with pytest.raises(InputError, match="gene list is empty"):
        ae.network(node, " \n, ")
    with pytest.raises(InputError, match="none of the 2 entries"):
        ae.network(node, "foo <script>bar</script>")
    with pytest.raises(InputError, match="max_genes=10"):
        ae.network(node, conserved_genes, max_genes=10)
    with pytest.raises(InputError, match="max_genes=40"):
        ae.network(node, background_genes[:10], add_partners=20, max_genes=40)  # unrelated genes: many partners
    with pytest.raises(InputError, match="max_rank=51; expected an integer from 1 to 50"):
        ae.network(node, conserved_genes, max_rank=51)
    with pytest.raises(InputError, match="min_score"):
        ae.network(node, conserved_genes, min_score=float("nan"))
    with pytest.raises(InputError, match="add_partners"):
        ae.network(node, conserved_genes, add_partners=-1)
    with pytest.raises(InputError, match="coex_partner"):
        ae.network(node.drop_vars("coex_partner"), conserved_genes)
    genes = list(conserved_genes)
    ae.network(node, genes)
    assert genes == conserved_genes  # the input list is not modified


# ------------------------------------------------------------------ the view (no browser)


def test_network_drawer_draws_compares_and_reports(atlas, conserved_genes):
    from atted_explore.views import NetworkDrawer
    from atted_explore.views.network import GENE_SET, LISTED, MODULE, edge_frame

    drawer = NetworkDrawer(atlas, species="Ath-r")
    drawer.__panel__()
    assert drawer.main.graph is None and "Paste gene IDs" in drawer._summary.object
    longest_list = "\n".join(["AT1G01010.1"] * drawer.max_genes)
    assert drawer._text.max_length >= len(longest_list)  # a full-size pasted list is never cut
    drawer._text.value = "typed, not drawn yet"
    drawer.max_rank = 5  # changing a threshold keeps what is typed
    assert drawer._text.value == "typed, not drawn yet"
    drawer.max_rank = DEFAULT_MAX_RANK
    drawer.genes = [*conserved_genes, "<script>x</script>"]  # as the Explorer sends a list
    assert drawer._text.value.splitlines()[0] == conserved_genes[0]
    assert set(drawer.main.graph) == set(conserved_genes)
    assert "&lt;script&gt;x&lt;/script&gt;" in drawer._summary.object and "<script>" not in drawer._summary.object
    drawer.compare_with = "Zma-r"
    stats = drawer.compared.graph.graph
    assert f"{stats['conserved_edges']} edges conserved" in drawer._summary.object
    assert edge_frame(drawer.main.graph)["conserved"].sum() == stats["conserved_edges"]
    for color_by in (MODULE, GENE_SET, LISTED):
        drawer.color_by = color_by
        categories, key = drawer.categories(drawer.main._frame, "main")
        assert set(categories.categories) <= set(key)
    drawer.param.update(color_by=GENE_SET, gene_set=atlas.attrs["truth_conserved_module"])
    categories, _ = drawer.categories(drawer.compared._frame, "compared")
    assert (categories == "in Photosynthesis (light reactions)").sum() == drawer.compared.graph.number_of_nodes()
    drawer.main.tapped = conserved_genes[1]  # what a click on a node does
    assert drawer.gene == conserved_genes[1] and conserved_genes[1] in drawer._clicked.object
    graphml = drawer.main.downloads[0].callback().getvalue()
    assert nx.read_graphml(io.BytesIO(graphml)).number_of_edges() == drawer.main.graph.number_of_edges()
    drawer.genes = ["nothing_here"]
    assert drawer.main.graph is None and "none of the 1 entries" in drawer._summary.object
    with pytest.raises(InputError, match="species='Xyz-r'"):
        NetworkDrawer(atlas, species="Xyz-r")
