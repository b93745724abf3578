"""The corpus vocabulary: the columns of the corpus tables, the values of a study's
screening decision, the coder name of reconciled codes, the code of a study that examines
no domain, and the default weight-of-evidence levels. No imports from the package."""

from __future__ import annotations

STUDIES_COLUMNS = ("study_id", "country", "design", "sample", "summary", "included",
                   "exclusion_reason", "weight")
CODES_COLUMNS = ("study_id", "coder", "domain")

YES, NO = "yes", "no"  # the values of `included`; empty means awaiting screening
INCLUDED_VALUES = (YES, NO)
INCLUDED, EXCLUDED, ERROR = "included", "excluded", "error"  # a record's status
AWAITING = "awaiting screening"  # the status of a study whose `included` is still empty

RECONCILED = "reconciled"  # the coder name of the codes two coders agreed on
NO_DOMAIN = "none"  # the code of an included study that examines no domain
WEIGHTS = ("high", "medium", "low")  # weight-of-evidence levels, highest first (default)

# what a coder decides about a study in a coding workbook, and the decisions.csv columns
CODER_FIELDS = ("included", "exclusion_reason", "country", "design", "sample", "summary",
                "weight")
NOTE = "note"
DECISIONS_COLUMNS = ("study_id", "coder", *CODER_FIELDS, "domains", NOTE)
DECISIONS_FILE = "decisions.csv"
# decisions.csv's last column where screening in relevance order made a decision: its place
# (1, 2, ...) in the order the decisions were made (the stopping rules need it; no clock time)
SEQUENCE = "sequence"

# a review's searches (corpus/searches.csv, copies in corpus/searches/), every record read
# (records.csv) and the pairs of records found alike (duplicates.csv)
SEARCHES_DIR = "searches"
SEARCHES_FILE = "searches.csv"
SEARCHES_COLUMNS = ("file", "database", "added", "records", "sha256")
RECORDS_FILE = "records.csv"
RECORDS_COLUMNS = ("record", "source", "file_line")
DUPLICATES_FILE = "duplicates.csv"
DUPLICATES_COLUMNS = ("study_id", "record", "source", "status", "reason", "score")
MERGED, CHECK, DISTINCT = "merged", "check", "distinct"  # a pair's status
# a coding sheet's columns of the model's suggestions: the domains it tags, and those of
# them (or of the ones it leaves out) it is not sure of
SUGGESTED_DOMAINS, CHECK_DOMAINS = "suggested_domains", "check_domains"
# passages quoted in coding (an EPPI-Reviewer import's AdditionalText and full-text quotes)
QUOTES_FILE = "quotes.csv"
QUOTES_COLUMNS = ("study_id", "code", "text", "document")

# where a work appeared, first filled-in field first: the container (journal, book, series of
# reports, school) and then, for a study's venue, its publisher
CONTAINER_FIELDS = ("journal", "journaltitle", "booktitle", "institution", "school")
VENUE_FIELDS = (*CONTAINER_FIELDS, "publisher", "howpublished")
# The one table of entry types: each BibTeX entry type, the kind of work it is (what
# duplicate finding compares), the RIS type written for it and EPPI-Reviewer's TypeName
# (None: EPPI-Reviewer's "Generic"). The writers' tables and the kinds derive from it; what
# the readers accept (RIS and CSV document types) is their own vocabulary, in io.
ENTRY_TYPES = {
    "article": ("article", "JOUR", "Journal, Article"),
    "book": ("book", "BOOK", "Book, Whole"),
    "incollection": ("chapter", "CHAP", "Book, Chapter"),
    "inbook": ("chapter", "CHAP", "Book, Chapter"),
    "inproceedings": ("paper", "CPAPER", "Conference Proceedings"),
    "conference": ("paper", "CPAPER", "Conference Proceedings"),
    "proceedings": ("book", "CONF", None),
    "techreport": ("report", "RPRT", "Report"),
    "report": ("report", "RPRT", "Report"),
    "phdthesis": ("thesis", "THES", "Dissertation"),
    "mastersthesis": ("thesis", "THES", "Dissertation"),
    "thesis": ("thesis", "THES", "Dissertation"),
    "unpublished": ("other", "UNPB", None),
    "online": ("other", "ELEC", "Web Site"),
}
ENTRY_KINDS = {t: kind for t, (kind, _, _) in ENTRY_TYPES.items() if kind != "other"}
KIND_WORDS = {"article": "a journal article", "chapter": "a chapter", "book": "a book",
              "report": "a report", "thesis": "a thesis", "paper": "a conference paper",
              "other": "another kind of work"}

# the BibTeX fields read from a reference file (one column each in the references table)
BIB_FIELDS = ("author", "title", "year", "date", "journal", "journaltitle", "booktitle",
              "institution", "school", "publisher", "howpublished", "volume", "number",
              "pages", "doi", "url", "keywords", "abstract", "editor", "month", "crossref",
              "edition", "eid")
# the columns of a reference file's entries as read: key, type, first line, the entry's text
BIB_COLUMNS = ("key", "entry_type", "line", "raw", *BIB_FIELDS)
# what validation gives each study from its reference entry (venue: the first of journal,
# booktitle, ... that is filled in; bib_raw: the entry's text)
FROM_BIB = ("title", "authors", "editor", "year", "venue", "publisher", "entry_type", "volume",
            "number", "pages", "doi", "url", "keywords", "abstract", "crossref", "bib_raw")
# columns of a validated study that validation makes: a studies table's column of one of
# these names is not read (nor may a codebook field take one); `line` is each table's own
MADE_BY_VALIDATION = ("status", *FROM_BIB)
LINE = "line"  # the column of every table read: the line (or sheet row) each row came from
