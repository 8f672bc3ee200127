"""Is the demo's planted conserved module one map module in every species, on several demo draws? (issue 8)

For each demo atlas (preset, seed) through the pipeline, and each species: the
chloroplast map module holding most of the planted module's genes, its share
of them (``recall``) and its purity (:func:`gene_set_module`), whether its top
enriched gene set is the planted one, and for each species pair whether the
modules match through orthologs (:func:`module_matches`, best partner with
q < 0.01). A species passes with recall >= 0.75 and purity >= 0.6 (the
thresholds of tests/test_coexmap.py).

    .venv/bin/python benchmarks/module_recovery.py            # small seeds 0, 1, 2 and default seed 0 (~20-40 min)
    .venv/bin/python benchmarks/module_recovery.py --quick    # small seed 0, 10 bags
    .venv/bin/python benchmarks/module_recovery.py --atlas a.zarr --atlas b.zarr   # analysed demo atlases

``--atlas`` reads the modules stored in saved analysed demo atlases (for
instance ``atted-explore demo``'s), as the pipeline computed them. Last line:
``cases=... passed=... pairs=... matched=...``.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parser, result_line  # noqa: E402

from atted_explore import analyze_atlas, coexmap, datasets  # noqa: E402
from atted_explore.compute.map_modules import gene_set_module, module_enrichment, module_matches  # noqa: E402
from atted_explore.io.store import open_atlas  # noqa: E402

SUBSET = "chloroplast"
DRAWS = (("small", 0, 50), ("small", 1, 50), ("small", 2, 50), ("default", 0, 100))
MIN_RECALL, MIN_PURITY, MAX_Q = 0.75, 0.6, 0.01


def analysed(preset: str, seed: int, n_bags: int):
    atlas = analyze_atlas(datasets.demo(preset=preset, seed=seed, progress=False), n_bags=n_bags, seed=seed,
                          interpret=False, coexmaps=False, progress=False)
    return coexmap(atlas, [SUBSET], seed=seed, progress=False)


def evaluate(label: str, atlas) -> tuple[int, int, int, int]:
    planted = atlas.attrs["truth_conserved_module"]
    found, passed = {}, 0
    for name in atlas.children:
        node = atlas[name].dataset
        module, recall, purity = gene_set_module(node, SUBSET, node["truth_module"].values == planted)
        enriched = module_enrichment(node, SUBSET).to_dataframe()
        top = enriched.loc[enriched["module"] == module, "gene_set"]
        ok = module >= 0 and recall >= MIN_RECALL and purity >= MIN_PURITY
        passed += ok
        found[name] = module
        print(f"{label:12s} {name:6s} module {module:3d}  recall {recall:.2f}  purity {purity:.2f}  "
              f"modules {int(node['coexmap_module'].sel(subset=SUBSET).max()) + 1:3d}  "
              f"top set planted {bool(len(top)) and top.iloc[0] == planted}  {'pass' if ok else 'FAIL'}")
    pairs = list(itertools.combinations(found, 2))
    matched = 0
    for a, b in pairs:
        table = module_matches(atlas, a, b, SUBSET).to_dataframe()
        best = table[table["best"] & (table["module_a"] == found[a])]
        ok = min(found[a], found[b]) >= 0 and len(best) and best["module_b"].iloc[0] == found[b] \
            and best["q_value"].iloc[0] < MAX_Q
        matched += bool(ok)
        print(f"{label:12s} {a}-{b} modules match: {bool(ok)}")
    return len(found), passed, len(pairs), matched


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--atlas", action="append", default=[], help="an analysed demo atlas (repeatable)")
    options = args.parse_args()
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    totals = [0, 0, 0, 0]
    if options.atlas:
        sources = [(Path(p).name, lambda p=p: open_atlas(p)) for p in options.atlas]
    else:
        draws = (("small", 0, 10),) if options.quick else DRAWS
        sources = [(f"{p} seed {s}", lambda p=p, s=s, b=b: analysed(p, s, b)) for p, s, b in draws]
    for label, load in sources:
        for i, value in enumerate(evaluate(label, load())):
            totals[i] += value
    cases, passed, pairs, matched = totals
    print(f"{passed}/{cases} species pass, {matched}/{pairs} pairs match ({time.perf_counter() - start:.0f} s)")
    print(result_line(cases=cases, passed=passed, pairs=pairs, matched=matched,
                      seconds=time.perf_counter() - start))


if __name__ == "__main__":
    main()
