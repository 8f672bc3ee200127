"""Names of ATTED-II downloads: species, platform, version and counts from file and folder names.

A download says what it holds through its names: the coexpression folder
``{Sp}-{p}.v{YY-MM}.G{genes}-S{samples}.{method}.{ls|z|mrgeo}.d``, the
platform folder ``{Sp}-{p}.c{N}-{M}``, and data files named
``{prefix}.expression.combat.txt``, ``{prefix}.run_info.txt`` ... whose prefix
is one of those. The names come from the files themselves, never from a list
of known dataset IDs.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import FormatError, InputError

SPECIES_NAMES = {
    "Ath": "Arabidopsis thaliana",
    "Bra": "Brassica rapa",
    "Gma": "Glycine max",
    "Mtr": "Medicago truncatula",
    "Osa": "Oryza sativa",
    "Sly": "Solanum lycopersicum",
    "Vvi": "Vitis vinifera",
    "Zma": "Zea mays",
    "Ptr": "Populus trichocarpa",
    "Nta": "Nicotiana tabacum",
    "Hvu": "Hordeum vulgare",
    "Tae": "Triticum aestivum",
    "Sbi": "Sorghum bicolor",
    "Egr": "Eucalyptus grandis",
    "Csa": "Cucumis sativus",
    "Cre": "Chlamydomonas reinhardtii",
    "Mpo": "Marchantia polymorpha",
    "Ppa": "Physcomitrium patens",
}
SPECIES = r"(?P<code>[A-Z][a-z]{2})-(?P<platform>[a-z][a-z0-9]*)"
COEX_FOLDER = re.compile(
    rf"^{SPECIES}\.v(?P<version>\d{{2}}-\d{{2}})\.G(?P<genes>\d+)-S(?P<samples>\d+)\.(?P<method>.+)\.(?P<kind>ls|z|mrgeo)\.d$"
)
PLATFORM_FOLDER = re.compile(rf"^{SPECIES}\.(?P<dataset>c\d+-\d+)$")
SAMPLE_LIST = re.compile(rf"^{SPECIES}(\.v(?P<version>\d{{2}}-\d{{2}}))?\.G(?P<genes>\d+)-S(?P<samples>\d+)\.list\.txt$")
#: the prefix of a data file's name before its role (``Ath-r.v22-05.G18957-S14741`` of ``....expression.combat.txt``).
FILE_PREFIX = re.compile(
    rf"^{SPECIES}(\.v(?P<version>\d{{2}}-\d{{2}}))?(\.(?P<dataset>c\d+-\d+))?(\.G(?P<genes>\d+)-S(?P<samples>\d+))?$"
)
#: name endings of the data files whose prefix names the species and platform.
ROLE_SUFFIXES = (".expression.combat.txt", ".expression.PC.txt", ".id-id-title.txt", ".run_info.txt", ".study_info.txt")
UMAP_SUBSETS = {"": "all", "_nucl": "nucleus", "_mito": "mitochondrion", "_chlo": "chloroplast"}
UMAP_FILE = re.compile(r"^(?P<prefix>.*?)(?P<subset>_nucl|_mito|_chlo)?\.umap\.txt$")


def parse_folder_name(name: str) -> dict[str, str | int]:
    """Species code, platform, and (when present) version, dataset, counts, method and kind of an ATTED-II name."""
    name = name.removesuffix(".zip")
    for pattern in (COEX_FOLDER, PLATFORM_FOLDER, SAMPLE_LIST, FILE_PREFIX):
        match = pattern.match(name)
        if match:
            parsed = {k: v for k, v in match.groupdict().items() if v is not None}
            for count in ("genes", "samples"):
                if count in parsed:
                    parsed[count] = int(parsed[count])
            return parsed
    raise FormatError(
        f"{name}: name does not parse as an ATTED-II folder; expected '{{Sp}}-{{p}}.c{{N}}-{{M}}' (e.g. Ath-r.c7-0) "
        "or '{Sp}-{p}.v{YY-MM}.G{genes}-S{samples}.{method}.{ls|z|mrgeo}.d'"
    )


def parsed_name(name: str) -> dict[str, str | int] | None:
    """:func:`parse_folder_name`, or None when the name does not parse."""
    try:
        return parse_folder_name(name)
    except FormatError:
        return None


def name_prefix(name: str) -> str | None:
    """The part of a data file's name that may name species and platform (``Ath-r.c7-0`` of ``Ath-r.c7-0.run_info.txt``)."""
    if name.endswith(".list.txt"):
        return name
    umap = UMAP_FILE.match(name)
    if umap:
        return umap.group("prefix")
    return next((name.removesuffix(suffix) for suffix in ROLE_SUFFIXES if name.endswith(suffix)), None)


def node_name(parsed: dict) -> str:
    """``Ath-r`` of a parsed name."""
    return f"{parsed['code']}-{parsed['platform']}"


def identity(path: Path, identities: dict[str, dict], node: str | None) -> dict[str, str | int]:
    """Species code, platform, version ... of the download at ``path``, from the names inside; its own name is a hint.

    ``identities``: ``{name inside: parse_folder_name(name)}``. Every name
    inside must agree on species and platform, and with ``node`` and the
    folder's name when they name one (``node`` wins over the folder's name).
    The coexpression folder's fields come first, then the other files', then
    the folder name's. FormatError when nothing names the species.
    """
    hint = parsed_name(path.name)
    inside = sorted(identities.items(), key=lambda item: item[1].get("kind") is None)
    named = {node_name(parsed): name for name, parsed in inside}
    if len(named) > 1:
        raise FormatError(
            f"{path}: files inside name different species platforms ({', '.join(f'{n} in {f!r}' for n, f in named.items())}); "
            "expected the files of one species platform"
        )
    for source, stated in ((f"the folder name {path.name!r}", hint and node_name(hint)), ("node", node)):
        if stated and named and stated not in named:
            inside_node, inside_file = next(iter(named.items()))
            raise FormatError(f"{path}: {source} says {stated} but {inside_file!r} inside is {inside_node}; expected one species platform")
    if node is not None:
        match = re.fullmatch(SPECIES, node)
        if not match:
            raise InputError(f"node {node!r}: expected a species platform such as 'Ath-r' (species code, '-', platform)")
        hint = {**(hint or {}), **match.groupdict()}
    if not named and hint is None:
        raise FormatError(
            f"{path}: nothing inside names the species and platform; expected ATTED-II file names such as "
            "'Ath-r.c7-0.expression.combat.txt' or a coexpression folder 'Ath-r.v22-05.G18957-S14741.combat_pca.subagging.ls.d', "
            "or name it: read_atted(path, node='Ath-r')"
        )
    merged: dict[str, str | int] = {}
    for parsed in [p for _, p in inside] + [hint or {}]:
        for key, value in parsed.items():
            merged.setdefault(key, value)
    return merged
