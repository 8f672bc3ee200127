"""Reading data in: ATTED-II bulk downloads, expression matrices, sample tables,
gene sets, GO annotations and orthologs, with ID normalization and join reports.

Every reader raises :class:`~atted_explore.errors.InputError` (or a subclass)
naming the file, line and field for bad input; every join of IDs reports its
matched/unmatched counts as a :class:`JoinWarning`.
"""

from .archive import extract_zip, open_zip
from .atted import parse_folder_name, read_atted, read_sample_list
from .genesets import GeneSets, attach_gene_sets, read_gene_sets
from .go import COMPARTMENT_TERMS, localization, read_go_annotations, read_go_parents
from .ids import IdRule, JoinReport, JoinWarning, id_rule, map_ids
from .orthologs import orthogroup_members, rbh_members, read_orthogroups, read_rbh
from .samples import align_samples, read_samples
from .tables import read_expression, read_table
from .text import read_text

__all__ = [
    "COMPARTMENT_TERMS",
    "GeneSets",
    "IdRule",
    "JoinReport",
    "JoinWarning",
    "align_samples",
    "attach_gene_sets",
    "extract_zip",
    "id_rule",
    "localization",
    "map_ids",
    "open_zip",
    "orthogroup_members",
    "parse_folder_name",
    "rbh_members",
    "read_atted",
    "read_expression",
    "read_gene_sets",
    "read_go_annotations",
    "read_go_parents",
    "read_orthogroups",
    "read_rbh",
    "read_sample_list",
    "read_samples",
    "read_table",
    "read_text",
]
