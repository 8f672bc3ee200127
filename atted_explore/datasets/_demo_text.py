"""Identifiers and free text of the synthetic demo atlas: gene IDs, symbols, runs, titles.

Everything here is drawn from a ``numpy.random.Generator`` handed in by the
caller, so the text is as deterministic as the numbers.
"""

from __future__ import annotations

import numpy as np

#: Payloads that must reach a browser as literal text; the browser tests check
#: ``window.__xss`` stays unset.
HTML_PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "heat &amp; drought, Col-0 <b>WT</b>",
)

#: Symbol stems of genes driven by a condition (background genes use generic families).
SYMBOL_STEMS = {
    "heat": ("HSP", "HSFA", "HSA"),
    "cold": ("COR", "CBF", "KIN", "LTI"),
    "drought": ("RD", "RAB", "DREB", "LEA"),
    "hypoxia": ("ADH", "PDC", "HRE", "LBD"),
    "light": ("LHCB", "PSBO", "RBCS", "PSAD"),
    "pathogen": ("PR", "WRKY", "PDF", "PAD"),
    "root": ("RHD", "PLT", "SHR"),
    "leaf": ("KAN", "AS", "TCP"),
    "seed": ("CRU", "OLE", "LEC"),
    "flower": ("AG", "AP", "SEP"),
    "background": ("MYB", "NAC", "BHLH", "PPR", "CYP", "GRF", "UBQ", "ERF", "LRR"),
}

DESCRIPTIONS = {
    "heat": (
        "Heat shock protein 70 family",
        "Heat shock transcription factor",
        "HSP20-like chaperones superfamily protein",
    ),
    "cold": ("Cold regulated protein", "C-repeat binding factor", "Low-temperature-induced protein"),
    "drought": (
        "Responsive to desiccation protein",
        "Late embryogenesis abundant (LEA) protein",
        "Dehydrin family protein",
    ),
    "hypoxia": (
        "Alcohol dehydrogenase",
        "Pyruvate decarboxylase",
        "Hypoxia responsive ERF",
        "LOB domain-containing protein",
    ),
    "light": (
        "Light-harvesting chlorophyll a/b binding protein",
        "Photosystem II subunit O",
        "Rubisco small subunit",
        "Photosystem I subunit D",
    ),
    "pathogen": (
        "Pathogenesis-related protein",
        "WRKY DNA-binding protein",
        "Plant defensin",
        "Phytoalexin deficient protein",
    ),
    "root": (
        "Root hair defective protein",
        "AP2-like ethylene-responsive (PLETHORA)",
        "GRAS family transcription factor",
    ),
    "leaf": ("KANADI transcription factor", "Asymmetric leaves protein", "TCP family transcription factor"),
    "seed": ("Cruciferin 12S seed storage protein", "Oleosin family protein", "Leafy cotyledon protein"),
    "flower": ("Floral homeotic protein AGAMOUS", "MADS-box transcription factor", "Sepallata protein"),
    "background": (
        "Pentatricopeptide repeat (PPR) superfamily protein",
        "Protein kinase superfamily protein",
        "F-box family protein",
        "Ca2+ & calmodulin-binding protein",
        "Transmembrane protein, putative (DUF<1230>)",
        'Zinc finger (C2H2 type) family protein "ZAT"',
        "Cytochrome P450, family 71 & 72",
        "Unknown protein",
        "Expressed protein; similar to <i>At5g</i> & unknown",
        "Ubiquitin-protein ligase",
    ),
}

#: Gene-set names by driving condition; modules take one and a running number.
PATHWAY_NAMES = {
    "heat": ("Protein folding (HSP chaperones)", "Heat shock response"),
    "cold": ("Cold acclimation (CBF regulon)", "Raffinose biosynthesis"),
    "drought": ("ABA biosynthesis", "Proline biosynthesis", "Osmotic stress & LEA proteins"),
    "hypoxia": ("Fermentation", "Glycolysis / gluconeogenesis", "Hypoxia-responsive ERF targets"),
    "light": ("Chlorophyll biosynthesis", "Carbon fixation in photosynthetic organisms"),
    "pathogen": ("Jasmonate signalling", "Camalexin biosynthesis", "Plant-pathogen interaction"),
    "tissue": ("Cell wall biogenesis", "Starch & sucrose metabolism", "Phenylpropanoid biosynthesis", "Ribosome"),
    "decoy": ("Tryptophan metabolism", "Lipoic acid metabolism", "Sulfur relay system", "Biotin metabolism"),
}

TITLE_TEMPLATES = (
    "{tissue}_{treatment}_{rep}",
    "{Tissue}, {treatment}, biological replicate {rep}",
    "{TISSUE} {TREATMENT} REP{rep}",
    "RNA-Seq of {tissue} ({treatment}) - replicate {rep}",
    "{tissue} {treatment} {treatment} rep {rep}",
    'Col-0 & mutant {tissue} "{treatment}" <{rep} d',
)

STUDY_TITLES = (
    "Transcriptome of {tissue} under {treatment}",
    "RNA-seq analysis of {treatment} response in {tissue}",
    "{Treatment} time course in {tissue}",
    "Genome-wide expression of {tissue} & {treatment} stress",
)


def _numbered(rng: np.random.Generator, n: int, n_groups: int, first: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``n`` loci over ``n_groups`` chromosomes; increasing locus numbers with random gaps."""
    chromosome = np.sort(rng.integers(1, n_groups + 1, size=n))
    gaps = rng.integers(1, 6, size=n) * step
    number = np.empty(n, dtype=np.int64)
    for chrom in np.unique(chromosome):
        where = chromosome == chrom
        number[where] = first + np.cumsum(gaps[where]) - gaps[where][0]
    return chromosome, number


def gene_ids(style: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted unique gene IDs in a species' nomenclature."""
    if style == "agi":  # Arabidopsis: AT1G01010
        chrom, number = _numbered(rng, n, 5, 1010, 10)
        ids = [f"AT{c}G{k:05d}" for c, k in zip(chrom, number)]
    elif style == "rap":  # rice RAP-DB: Os01g0100100
        chrom, number = _numbered(rng, n, 12, 100100, 100)
        ids = [f"Os{c:02d}g{k:07d}" for c, k in zip(chrom, number)]
    elif style == "zm":  # maize B73 v4: Zm00001d000001
        _, number = _numbered(rng, n, 1, 1, 1)
        ids = [f"Zm00001d{k:06d}" for k in number]
    else:
        raise ValueError(f"unknown gene ID style {style!r}")
    return np.array(ids, dtype=object)


def gene_annotation(
    theme: np.ndarray, symbol_prefix: str, upper: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Symbols and descriptions; ``theme`` names each gene's driving condition or ``background``."""
    counters: dict[str, int] = {}
    symbols, descriptions = [], []
    missing = rng.random(theme.size) < 0.35
    for kind, no_symbol in zip(theme, missing):
        kind = kind if kind in SYMBOL_STEMS else "background"
        descriptions.append(DESCRIPTIONS[kind][rng.integers(len(DESCRIPTIONS[kind]))])
        if no_symbol and kind == "background":
            symbols.append("")
            continue
        stem = SYMBOL_STEMS[kind][rng.integers(len(SYMBOL_STEMS[kind]))]
        counters[stem] = counters.get(stem, 0) + 1
        shown = stem if upper else stem.capitalize()
        symbols.append(f"{symbol_prefix}{shown}{counters[stem]}")
    return np.array(symbols, dtype=object), np.array(descriptions, dtype=object)


def run_accessions(
    study_sizes: np.ndarray, rng: np.random.Generator, first_number: int
) -> tuple[np.ndarray, np.ndarray]:
    """Run and study accessions (SRR/SRP, DRR/DRP, ERR/ERP); runs of a study are consecutive."""
    archive = rng.choice(np.array(["S", "D", "E"]), size=study_sizes.size, p=[0.8, 0.1, 0.1])
    study_numbers = first_number + np.cumsum(rng.integers(1, 40, size=study_sizes.size))
    gaps = rng.integers(0, 50, size=study_sizes.size)
    run_starts = 10 * first_number + np.cumsum(gaps) + np.cumsum(study_sizes) - study_sizes
    runs, studies = [], []
    for letter, study_number, start, size in zip(archive, study_numbers, run_starts, study_sizes):
        study = f"{letter}RP{study_number:06d}"
        runs.extend(f"{letter}RR{start + k:07d}" for k in range(size))
        studies.extend([study] * size)
    return np.array(runs, dtype=object), np.array(studies, dtype=object)


def sample_title(template: str, tissue: str, treatment: str, rep: int) -> str:
    return template.format(
        tissue=tissue,
        Tissue=tissue.capitalize(),
        TISSUE=tissue.upper(),
        treatment=treatment,
        TREATMENT=treatment.upper(),
        rep=rep,
    )


def study_title(rng: np.random.Generator, tissue: str, treatment: str) -> str:
    template = STUDY_TITLES[rng.integers(len(STUDY_TITLES))]
    return template.format(tissue=tissue, treatment=treatment, Treatment=treatment.capitalize())
