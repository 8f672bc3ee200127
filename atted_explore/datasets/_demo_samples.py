"""The demo's samples: studies of unequal sizes, their annotation and each sample's condition activity.

One dominant study (``DOMINANT_FRACTION`` of the samples) is a time course of
the species' dominant treatment in its dominant tissue; the others, of
heavy-tailed sizes, are tissue atlases (untreated samples of several tissues)
or control-vs-treatment experiments in one tissue. Titles repeat the study's
title in some studies (so a control sample's title can name the treatment),
and carry casing, spacing and HTML noise on purpose.
"""

from __future__ import annotations

import math

import numpy as np

from . import _demo_text as text
from ._demo_species import SpeciesSpec

TREATMENTS = ("heat", "cold", "drought", "hypoxia", "light", "pathogen")
N_BATCH_FACTORS = 3
TIME_POINTS_H = np.array([0, 0.5, 1, 2, 4, 8, 12, 24])
DOMINANT_FRACTION = 0.45


def _study_sizes(n_samples: int, n_studies: int, rng: np.random.Generator) -> np.ndarray:
    """The dominant study first (>= 40% of samples), then small studies of heavy-tailed sizes."""
    dominant = math.ceil(DOMINANT_FRACTION * n_samples)
    rest = n_samples - dominant - 2 * (n_studies - 1)
    weights = rng.lognormal(0.0, 1.2, size=n_studies - 1)
    small = 2 + rng.multinomial(rest, weights / weights.sum())
    return np.concatenate([[dominant], small])


def samples(spec: SpeciesSpec, n_samples: int, n_studies: int, conditions: list[str], seed_index: int,
             rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, str]:
    """Run IDs, sample annotation, condition activity (sample, condition) and the dominant study ID."""
    sizes = _study_sizes(n_samples, n_studies, rng)
    order = rng.permutation(n_studies)  # accession order; the dominant study is not always first
    runs, studies = text.run_accessions(sizes[order], rng, first_number=1000 + 100_000 * seed_index)
    study_of_sample = np.repeat(order, sizes[order])
    column = {name: k for k, name in enumerate(conditions)}
    activity = np.zeros((n_samples, len(conditions)), dtype=np.float32)
    tissue = np.empty(n_samples, dtype=object)
    treatment = np.empty(n_samples, dtype=object)
    title = np.empty(n_samples, dtype=object)
    batch = rng.normal(0.0, 0.6, size=(n_studies, N_BATCH_FACTORS)).astype(np.float32)
    activity[:, -N_BATCH_FACTORS:] = batch[study_of_sample]
    tissue_p = np.linspace(2.0, 1.0, len(spec.tissues))
    tissue_p /= tissue_p.sum()
    treatment_choices = (*TREATMENTS, "dark")
    payload_study = int(rng.integers(1, n_studies))  # a small study whose treatment label carries HTML
    starts = np.concatenate([[0], np.cumsum(sizes[order])[:-1]])
    for start, study in zip(starts, order):
        size = sizes[study]
        rows = slice(start, start + size)
        template = text.TITLE_TEMPLATES[rng.integers(len(text.TITLE_TEMPLATES))]
        rep = np.arange(size) % 3 + 1
        if study == 0:  # the big time course of one treatment in one tissue
            hours = TIME_POINTS_H[(np.arange(size) // 3) % TIME_POINTS_H.size]
            strength = 3.5 * (1 - np.exp(-hours / 3.0)) * rng.uniform(0.9, 1.1, size)
            tissues = np.full(size, spec.dominant_tissue, dtype=object)
            labels = np.where(hours == 0, "control", spec.dominant_treatment).astype(object)
            activity[rows, column[spec.dominant_treatment]] = strength
            shown = [f"{label} {h:g}h" for label, h in zip(labels, hours)]
            prefix = text.study_title(rng, spec.dominant_tissue, f"{spec.dominant_treatment} time course")
        elif study != payload_study and rng.random() < 0.25:  # a tissue atlas: untreated samples of several tissues
            tissues = rng.choice(np.array(spec.tissues, dtype=object), size=size, p=tissue_p)
            labels = np.full(size, "control", dtype=object)
            shown = list(labels)
            prefix = text.study_title(rng, "several tissues", "development")
        else:  # control vs one treatment in one tissue
            chosen = treatment_choices[rng.integers(len(treatment_choices))]
            tissues = np.full(size, rng.choice(np.array(spec.tissues, dtype=object), p=tissue_p), dtype=object)
            treated = np.arange(size) % 2 == 1
            labels = np.where(treated, chosen, "control").astype(object)
            strength = treated * rng.uniform(0.6, 1.4, size)
            if chosen == "dark":  # darkness is negative light activity
                activity[rows, column["light"]] = -strength
            else:
                activity[rows, column[chosen]] = strength
            shown = list(labels)
            if study == payload_study:
                labels = np.where(treated, f'{chosen} & "mild" {text.HTML_PAYLOADS[1]}', "control").astype(object)
            prefix = text.study_title(rng, tissues[0], chosen)
        tissue_columns = [column[t] for t in tissues]
        activity[np.arange(start, start + size), tissue_columns] += rng.uniform(0.8, 1.2, size).astype(np.float32)
        tissue[rows], treatment[rows] = tissues, labels
        with_prefix = rng.random() < 0.3
        title[rows] = [
            (f"{prefix}; " if with_prefix else "") + text.sample_title(template, t, s, r)
            for t, s, r in zip(tissues, shown, rep)
        ]
    noisy = rng.random(n_samples)
    title = np.where(noisy < 0.08, [t.lower() for t in title], title)
    title = np.where((noisy >= 0.08) & (noisy < 0.12), [f"  {t.replace(' ', '  ')} " for t in title], title)
    for payload, where in zip(text.HTML_PAYLOADS, rng.choice(n_samples, len(text.HTML_PAYLOADS), replace=False)):
        title[where] = f"{title[where]} {payload}"
    annotation = {"study": studies, "tissue": tissue, "treatment": treatment, "title": title.astype(object)}
    return runs, annotation, activity, str(studies[study_of_sample == 0][0])


