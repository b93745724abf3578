"""Citations from BibTeX names: corporate authors, LaTeX accents, et al., n.d."""

from hypothesis import given, settings
from hypothesis import strategies as st

from trustreview.base.text import parse_name, split_authors
from trustreview.synthesis.citations import apa_reference, in_text_citation


def test_split_keeps_braced_corporate_authors_whole():
    assert split_authors("{Department for Education and Skills} and Smith, J.") == [
        "{Department for Education and Skills}", "Smith, J."]
    assert parse_name("{World Bank}")["last"] == "World Bank"


def test_latex_accents_are_decoded_after_splitting():
    assert parse_name('B{\\"o}hlmark, A.')["last"] == "Böhlmark"
    assert parse_name("Kronqvist H{\\aa}{\\aa}rd, M.")["last"] == "Kronqvist Håård"


def test_first_last_order_and_particles():
    name = parse_name("Maria van der Steen")
    assert name["last"] == "van der Steen" and name["initials"] == "M."


def test_in_text_forms():
    assert in_text_citation("Hutchings, M. and Francis, B.", "2017") == \
        "Hutchings and Francis (2017)"
    assert in_text_citation("Greany, T. and Higham, R. and Smith, A.", "2018") == \
        "Greany et al. (2018)"
    assert in_text_citation("{Ofsted}", "2019") == "Ofsted (2019)"
    assert in_text_citation("Honingh, M. and others", "2020") == "Honingh et al. (2020)"
    assert in_text_citation("Townsley, J.", "") == "Townsley (n.d.)"
    assert in_text_citation("", "2018", "Multi-academy trusts: do they make a difference?") \
        == "Multi-academy trusts (2018)"


def test_apa_article():
    ref = apa_reference({"authors": "Chapman, C. and Muijs, D.", "year": "2014",
                         "title": "Does school-to-school collaboration promote school "
                                  "improvement?", "venue": "School Effectiveness and School "
                                  "Improvement", "entry_type": "article", "volume": "25",
                         "number": "3", "pages": "351--393", "doi": "10.1080/x"})
    assert ref == ("Chapman, C., & Muijs, D. (2014). Does school-to-school collaboration "
                   "promote school improvement? School Effectiveness and School Improvement, "
                   "25(3), 351–393. https://doi.org/10.1080/x")


NAME = st.sampled_from(["Smith, J.", "Anderson, Kay", "{World Bank}", "{Smith and Sons}",
                         "van der Berg, Ann", "Brandon", "Sandy, O.", "others", "Ó Briain, A.",
                         r"{\"O}zt{\"u}rk, E."])
SPACE = st.sampled_from([" ", "  ", "\t", "\n", " \n  "])


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(NAME, min_size=1, max_size=6), st.lists(SPACE, min_size=12, max_size=12))
def test_a_name_list_splits_into_the_names_it_was_joined_from(names, spaces):
    # the list written as a person or a database would (any spaces around "and") splits
    # into its names, as bibtexparser's own splitter splits it; "and" inside a word or
    # inside braces stays in its name
    from bibtexparser.middlewares.names import split_multiple_persons_names

    field = "".join(name + (f"{spaces[2 * i]}and{spaces[2 * i + 1]}"
                            if i < len(names) - 1 else "") for i, name in enumerate(names))
    assert split_authors(field) == names
    assert split_authors(field) == [n.strip() for n in split_multiple_persons_names(field)]
