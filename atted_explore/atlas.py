"""The atlas data model: an ``xarray.DataTree`` with one child per species platform.

Layout
------
Root node
    attrs: ``name``, ``description``, ``provenance`` (dict), ``format_version``.
    Optional ortholog table on dim ``ortholog``: ``ortholog_group`` (str),
    ``ortholog_node`` (child name, e.g. ``"Ath-r"``), ``ortholog_gene`` (gene ID
    in that child). Two genes are orthologs when they share a group, so 1:1 and
    1:many relations (and pairwise reciprocal-best-hit tables, one group per
    pair) share one representation.
    Optional CoexMap conservation table (atlas-level results live at the root;
    written by :func:`atted_explore.coexmap`, dims without coordinates so the
    species nodes do not inherit them): ``map_conservation_{score, baseline,
    p_value, excess}`` (float) and ``map_conservation_n_anchors`` (int, -1 =
    not computed) on (``map_pair``, ``map_subset``); ``map_node_a``,
    ``map_node_b`` on ``map_pair``; ``map_subset_name`` on ``map_subset``.

Species node (e.g. ``"Ath-r"``), attrs ``species`` (Latin name),
``species_code`` (``"Ath"``), ``platform`` (``"r"`` RNA-seq, ``"m"`` array ...).

==================  =====================  ========================================
variable            dims                   meaning
==================  =====================  ========================================
expression          gene, sample           log2 expression, float32
sample_score        sample, pc             sample coordinates on the PCs
gene_score          gene, pc               gene coordinates on the PCs
pc_variance         pc                     fraction of total variance explained
coex_partner        gene, rank             partner's position on ``gene``; -1 none
coex_score          gene, rank             coexpression index (larger = stronger)
coex_mr             gene, rank             mutual rank, when the method has one
coexmap             gene, subset, xy       CoexMap layout; NaN outside the subset
coexmap_module      gene, subset           map module (HDBSCAN, checked on coexpression), int32; -1 none
localization        gene, compartment      bool
gene_set_name       gene_set               display name of a gene set
gene_set_size       gene_set               IDs its annotation file lists (matched or not)
member_set          member                 gene-set ID of a (set, gene) membership
member_gene         member                 gene ID of a (set, gene) membership
go_term_name        go_term                name of a GO biological-process term
go_member_term      go_member              GO ID of a (term, gene) membership
go_member_gene      go_member              gene ID of a (term, gene) membership
enrichment_*        enrichment             PC-side gene-set enrichment table (below)
term_*              pc_term                characteristic annotation terms table
representative_*    representative         representative samples table
representative_shared pc, side           terms all representatives of a side share
top_gene_count      pc, side               top genes selected for enrichment
common_*            common                 study common annotation table
truth_*             any                    planted truth of synthetic atlases
==================  =====================  ========================================

``coex_partner`` holds positions on the node's ``gene`` dim, so its lists are
valid only for the gene order they were computed on. Writers of the lists
(:func:`atted_explore.coexpression`, the ATTED-II reader) record that order as
the node attr ``coex_gene_order`` (SHA-1 of the newline-joined gene IDs,
:func:`with_partner_order`); :func:`validate` and every reader of the lists
call :func:`check_partner_order`, which refuses a node whose genes were
reordered or subset since (``isel``/``sortby``/``sel`` on ``gene``). Lists
written without the attr (older atlases, hand-made tables) are not checked.

Coordinates: ``gene`` (unique str IDs) with ``symbol``, ``description``;
``sample`` (unique str IDs) with ``study``, ``tissue``, ``treatment``,
``title``; ``pc`` (int, 1-based) with ``label``, ``summary``, ``pc_description``
(the genes own the name ``description``);
``rank`` (int, 1-based); ``compartment``; ``subset`` (``"all"``, a
compartment, a gene-set ID, ``"annotated"`` or ``"single_copy"``, see
:mod:`atted_explore.compute.coexmap`); ``xy`` (``"x"``, ``"y"``); ``gene_set`` (str IDs); ``side``
(``"positive"``, ``"negative"``: the two ends of a PC).
Node attrs of the CoexMaps: ``coexmap_params``, ``coexmap_subsets``,
``coexmap_alignment``, ``coexmap_skipped``.

PC interpretation (:func:`atted_explore.interpret_pcs`) stores tidy tables as
one variable per column on a table dim: ``enrichment_{pc, side, rank, set,
source, name, overlap, set_size, n_top, fold, p, fdr}`` (dim ``enrichment``),
``term_{pc, side, rank, term, n_samples, n_studies, n_extreme_studies, auc, p,
fdr, extreme_studies}`` (dim ``pc_term``), ``representative_{pc, side, order,
sample, study, score, terms}`` (dim ``representative``; ``terms`` space-joined)
and ``common_{study, n_samples, terms}`` (dim ``common``); the written texts
are the ``pc`` coordinates ``label``, ``summary``, ``pc_description``, with attrs
``interpretation`` (summarizer, model, time, parameters) on the node.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import xarray as xr

from .errors import AtlasValidationError, InputError

FORMAT_VERSION = 1

#: PC interpretation tables: name -> (variable prefix, table dim, columns); one variable per column.
INTERPRETATION_TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "enrichment": ("enrichment_", "enrichment", (
        "pc", "side", "rank", "set", "source", "name", "overlap", "set_size", "n_top", "fold", "p", "fdr")),
    "terms": ("term_", "pc_term", (
        "pc", "side", "rank", "term", "n_samples", "n_studies", "n_extreme_studies", "auc", "p", "fdr",
        "extreme_studies")),
    "representatives": ("representative_", "representative", ("pc", "side", "order", "sample", "study", "score", "terms")),
    "common": ("common_", "common", ("study", "n_samples", "terms")),
}

#: dims of every variable the data model names (``truth_*`` are free-form).
VARIABLE_DIMS: dict[str, tuple[str, ...]] = {
    "expression": ("gene", "sample"),
    "sample_score": ("sample", "pc"),
    "gene_score": ("gene", "pc"),
    "pc_variance": ("pc",),
    "coex_partner": ("gene", "rank"),
    "coex_score": ("gene", "rank"),
    "coex_mr": ("gene", "rank"),
    "coexmap": ("gene", "subset", "xy"),
    "coexmap_module": ("gene", "subset"),
    "localization": ("gene", "compartment"),
    "gene_set_name": ("gene_set",),
    "gene_set_size": ("gene_set",),
    "member_set": ("member",),
    "member_gene": ("member",),
    "go_term_name": ("go_term",),
    "go_member_term": ("go_member",),
    "go_member_gene": ("go_member",),
    **{f"{prefix}{column}": (dim,) for prefix, dim, columns in INTERPRETATION_TABLES.values() for column in columns},
    "representative_shared": ("pc", "side"),
    "top_gene_count": ("pc", "side"),
}

#: dims of the atlas-level (root) variables besides the ortholog table.
ROOT_VARIABLE_DIMS: dict[str, tuple[str, ...]] = {
    **{f"map_conservation_{v}": ("map_pair", "map_subset") for v in ("score", "baseline", "p_value", "excess", "n_anchors")},
    "map_node_a": ("map_pair",),
    "map_node_b": ("map_pair",),
    "map_subset_name": ("map_subset",),
}

SAMPLE_FIELDS = ("study", "tissue", "treatment", "title")
#: node attr: SHA-1 of the gene order that the ``coex_partner`` positions refer to.
PARTNER_ORDER_ATTR = "coex_gene_order"
ORTHOLOG_VARIABLES = ("ortholog_group", "ortholog_node", "ortholog_gene")


# --------------------------------------------------------------------------- access


def species_nodes(atlas: xr.DataTree) -> list[str]:
    """Names of the species-platform children (a ``species`` attr or a ``gene`` dim), in atlas order."""
    return [
        name for name, child in atlas.children.items() if "species" in child.attrs or "gene" in child.dataset.dims
    ]


#: gene index -> its order hash, for the last few indexes (the index is kept, so its id stays its own).
_ORDER_HASHES: dict[int, tuple[pd.Index, str]] = {}


def gene_order_hash(node: xr.Dataset) -> str:
    """SHA-1 of the node's gene IDs in order, newline-joined (cached per gene index: readers check per query)."""
    genes = node.indexes["gene"]
    cached = _ORDER_HASHES.get(id(genes))
    if cached is None:
        cached = genes, hashlib.sha1("\n".join(genes.astype(str)).encode()).hexdigest()
        if len(_ORDER_HASHES) >= 16:
            _ORDER_HASHES.pop(next(iter(_ORDER_HASHES)))
        _ORDER_HASHES[id(genes)] = cached
    return cached[1]


def with_partner_order(node: xr.Dataset) -> xr.Dataset:
    """``node`` with the gene order of its ``coex_partner`` positions recorded (for writers of the lists)."""
    out = node.copy()
    out.attrs = {**node.attrs, PARTNER_ORDER_ATTR: gene_order_hash(node)}
    return out


def check_partner_order(node: xr.Dataset, where: str = "node") -> None:
    """Refuse ``coex_partner`` positions that point into another gene order than the node's (InputError)."""
    stored = node.attrs.get(PARTNER_ORDER_ATTR)
    if "coex_partner" in node and stored is not None and stored != gene_order_hash(node):
        raise AtlasValidationError(
            f"{where}, variable 'coex_partner': holds positions on the 'gene' dim, but the genes were reordered "
            f"or subset after the lists were computed (attr {PARTNER_ORDER_ATTR!r} does not match the gene order); "
            "use the node as stored, or run atted_explore.coexpression again on the reordered node"
        )


def node_dataset(atlas: xr.DataTree, name: str) -> xr.Dataset:
    """The dataset of one species node, with a clear error for unknown names."""
    if name not in atlas.children:
        raise InputError(f"atlas has no species node {name!r}; it has {species_nodes(atlas)}")
    return atlas[name].to_dataset()


def require_variable(node: xr.Dataset, variable: str, step: str) -> None:
    """InputError naming the step that makes ``variable`` when the node lacks it."""
    if variable not in node:
        raise InputError(f"node has no variable {variable!r} (run {step} first)")


def gene_position(node: xr.Dataset, gene: str) -> int:
    """Position of ``gene`` on the node's ``gene`` dim (InputError for an unknown ID)."""
    genes = node.indexes["gene"]
    if gene not in genes:
        raise InputError(f"gene {gene!r} is not on dim 'gene' of this node ({genes.size} genes)")
    return int(genes.get_loc(gene))


def gene_field(node: xr.Dataset, field: str) -> np.ndarray:
    """A gene annotation (``symbol``, ``description``) as objects; empty strings when the node has none."""
    if field in node.coords:
        return np.asarray(node[field].values, dtype=object)
    return np.full(node.sizes["gene"], "", dtype=object)


def localization_labels(node: xr.Dataset, positions: np.ndarray | None = None) -> np.ndarray:
    """Per gene (or per gene at ``positions``), its compartments joined by ", " ("" when none or no localization)."""
    if "localization" not in node:
        return np.full(node.sizes["gene"] if positions is None else len(positions), "", dtype=object)
    flags = node["localization"] if positions is None else node["localization"].isel(gene=positions)
    flags = np.asarray(flags.values, dtype=bool)
    names = [str(c) for c in node["compartment"].values]
    return np.array([", ".join(n for n, f in zip(names, row, strict=True) if f) for row in flags], dtype=object)


def has_coexmaps(atlas: xr.DataTree) -> bool:
    """Whether any species node of the atlas has CoexMap layouts."""
    return any("coexmap" in atlas[name].dataset for name in species_nodes(atlas))


def sample_fields(node: xr.Dataset) -> list[str]:
    """Sample annotation fields with at least one non-empty value: the usual ones first, then any other.

    A field is a text coordinate on ``sample`` alone (a user's table may bring ``Tissue`` or
    ``genotype``); fields that are missing or empty everywhere are left out.
    """
    extra = sorted(str(name) for name in node.coords if name not in SAMPLE_FIELDS)
    fields = []
    for name in [*SAMPLE_FIELDS, *extra]:
        if name == "sample" or name not in node.coords or node[name].dims != ("sample",):
            continue
        values = node[name].values
        if values.dtype.kind not in "OUS":
            continue
        text = pd.Series(values, dtype=object).astype(str).str.strip()
        if (~text.isin(["", "nan", "None"])).any():
            fields.append(name)
    return fields


def orthologs(atlas: xr.DataTree) -> pd.DataFrame:
    """The ortholog membership table (columns group, node, gene); empty if absent."""
    root = atlas.dataset
    if "ortholog_group" not in root:
        return pd.DataFrame(columns=["group", "node", "gene"])
    return pd.DataFrame(
        {
            "group": root["ortholog_group"].values.astype(str),
            "node": root["ortholog_node"].values.astype(str),
            "gene": root["ortholog_gene"].values.astype(str),
        }
    )


def _memberships(node: xr.Dataset, set_variable: str, gene_variable: str) -> dict[str, list[str]]:
    if set_variable not in node:
        return {}
    members = pd.DataFrame(
        {"set": node[set_variable].values.astype(str), "gene": node[gene_variable].values.astype(str)}
    )
    return {set_id: list(group["gene"]) for set_id, group in members.groupby("set", sort=False)}


def gene_sets(node: xr.Dataset) -> dict[str, list[str]]:
    """Gene sets of a node as ``{set_id: [gene IDs]}`` (empty if the node has none)."""
    return _memberships(node, "member_set", "member_gene")


def go_sets(node: xr.Dataset) -> dict[str, list[str]]:
    """GO biological-process sets of a node as ``{GO ID: [gene IDs]}`` (empty if the node has none)."""
    return _memberships(node, "go_member_term", "go_member_gene")


def gene_set_sizes(node: xr.Dataset) -> dict[str, int]:
    """Per gene set, the number of IDs its annotation lists (``gene_set_size``; members on the node if absent)."""
    if "gene_set_size" in node:
        return dict(zip(node["gene_set"].values.astype(str), node["gene_set_size"].values.astype(int).tolist()))
    return {set_id: len(members) for set_id, members in gene_sets(node).items()}


def with_gene_sets(
    node: xr.Dataset,
    sets: dict[str, list[str]],
    names: dict[str, str] | None = None,
    sizes: dict[str, int] | None = None,
) -> xr.Dataset:
    """Return ``node`` with gene sets stored as a (set, gene) membership table.

    Genes not on the node's ``gene`` dim are dropped (callers report the join).
    ``sizes``: per set, the number of IDs its annotation lists (default: the
    length of its list in ``sets``, counted before dropping), stored as ``gene_set_size``.
    """
    known = set(node["gene"].values.astype(str))
    set_ids, genes = [], []
    for set_id, members in sets.items():
        for gene in dict.fromkeys(members):
            if gene in known:
                set_ids.append(set_id)
                genes.append(gene)
    kept = list(dict.fromkeys(set_ids))
    names = names or {}
    sizes = sizes or {}
    out = node.drop_vars(
        [v for v in ("gene_set_name", "gene_set_size", "member_set", "member_gene", "gene_set") if v in node.variables]
    )
    return out.assign(
        gene_set_name=("gene_set", np.array([names.get(s, s) for s in kept], dtype=object)),
        gene_set_size=("gene_set", np.array([sizes.get(s, len(sets[s])) for s in kept], dtype=np.int32)),
        member_set=("member", np.array(set_ids, dtype=object)),
        member_gene=("member", np.array(genes, dtype=object)),
    ).assign_coords(gene_set=np.array(kept, dtype=object))


# ----------------------------------------------------------------------- validation


def _fail(where: str, problem: str) -> None:
    raise AtlasValidationError(f"{where}: {problem}")


def _check_unique(where: str, index: xr.DataArray) -> None:
    values = pd.Index(index.values)
    if values.has_duplicates:
        dupes = values[values.duplicated()].unique()[:5].tolist()
        _fail(where, f"duplicate IDs on dim {index.name!r}: {dupes} (IDs must be unique)")


def validate_node(node: xr.Dataset, name: str = "node", check_values: bool = True) -> None:
    """Check one species node against the data model; raise AtlasValidationError."""
    where = f"atlas node {name!r}"
    if "gene" not in node.dims:
        _fail(where, "missing dim 'gene' (every species node is indexed by gene)")
    for dim in ("gene", "sample"):
        if dim in node.dims:
            if dim not in node.coords:
                _fail(where, f"dim {dim!r} has no coordinate of IDs")
            _check_unique(where, node[dim])
    for var, dims in VARIABLE_DIMS.items():
        if var in node.variables and node[var].dims != dims:
            _fail(f"{where}, variable {var!r}", f"has dims {node[var].dims}, expected {dims}")
    for dim in ("pc", "rank"):
        if dim in node.dims and dim not in node.coords:
            _fail(where, f"dim {dim!r} has no coordinate")
    if "localization" in node and node["localization"].dtype != bool:
        _fail(f"{where}, variable 'localization'", f"has dtype {node['localization'].dtype}, expected bool")
    check_partner_order(node, where)
    if "coex_partner" in node:
        partners = node["coex_partner"]
        if not np.issubdtype(partners.dtype, np.integer):
            _fail(f"{where}, variable 'coex_partner'", f"has dtype {partners.dtype}, expected integer positions")
        if check_values:
            low, high = int(partners.min()), int(partners.max())
            if low < -1 or high >= node.sizes["gene"]:
                _fail(
                    f"{where}, variable 'coex_partner'",
                    f"values span [{low}, {high}], expected -1 or a position in [0, {node.sizes['gene']})",
                )
    if "member_set" in node and "gene_set" in node.coords:
        unknown = set(node["member_set"].values.astype(str)) - set(node["gene_set"].values.astype(str))
        if unknown:
            _fail(f"{where}, variable 'member_set'", f"names gene sets not on dim 'gene_set': {sorted(unknown)[:5]}")
    if "member_gene" in node:
        unknown = set(node["member_gene"].values.astype(str)) - set(node["gene"].values.astype(str))
        if unknown:
            _fail(f"{where}, variable 'member_gene'", f"names unknown genes: {sorted(unknown)[:5]}")
    if check_values and "expression" in node:
        expression = node["expression"].data
        n_bad = int(np.asarray((~np.isfinite(expression)).sum()))
        if n_bad:
            _fail(f"{where}, variable 'expression'", f"{n_bad} non-finite values (NaN or inf); expected finite log2 values")


def validate(atlas: xr.DataTree, check_values: bool = True) -> xr.DataTree:
    """Check an atlas against the data model and return it unchanged.

    Raises :class:`~atted_explore.errors.AtlasValidationError` (an ``InputError``)
    naming the node, variable and problem. ``check_values=False`` skips checks
    that read array values (non-finite expression, partner ranges).
    """
    if not isinstance(atlas, xr.DataTree):
        raise AtlasValidationError(f"an atlas is an xarray.DataTree, got {type(atlas).__name__}")
    names = species_nodes(atlas)
    if not names:
        _fail("atlas", "has no species node (a child with a 'species' attr or a 'gene' dim)")
    for name in names:
        validate_node(atlas[name].to_dataset(), name, check_values=check_values)
    root = atlas.dataset
    for var, dims in ROOT_VARIABLE_DIMS.items():
        if var in root and root[var].dims != dims:
            _fail(f"atlas root, variable {var!r}", f"has dims {root[var].dims}, expected {dims}")
    if "map_node_a" in root:
        named = set(root["map_node_a"].values.astype(str)) | set(root["map_node_b"].values.astype(str))
        unknown = sorted(named - set(names))
        if unknown:
            _fail("atlas root, variable 'map_node_a'/'map_node_b'", f"names unknown species nodes {unknown[:5]}")
    present = [v for v in ORTHOLOG_VARIABLES if v in root]
    if present and len(present) != len(ORTHOLOG_VARIABLES):
        _fail("atlas root", f"ortholog table needs all of {ORTHOLOG_VARIABLES}, found {present}")
    if present:
        table = orthologs(atlas)
        unknown_nodes = sorted(set(table["node"]) - set(names))
        if unknown_nodes:
            _fail("atlas root, variable 'ortholog_node'", f"names unknown species nodes {unknown_nodes[:5]}")
        for name, rows in table.groupby("node"):
            missing = sorted(set(rows["gene"]) - set(atlas[name]["gene"].values.astype(str)))
            if missing:
                _fail(
                    "atlas root, variable 'ortholog_gene'",
                    f"names {len(missing)} genes unknown in node {name!r}, e.g. {missing[:5]}",
                )
    return atlas
