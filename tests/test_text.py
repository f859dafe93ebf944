from hippo.text import normalize_name, split_sentences


def test_sentences_keep_abbreviations_and_initials():
    text = "Dr. Ada Lindqvist met J. R. Vey in St. Ives. They talked.\n\nA new paragraph"
    assert split_sentences(text) == ["Dr. Ada Lindqvist met J. R. Vey in St. Ives.", "They talked.", "A new paragraph"]


def test_normalize_keeps_non_ascii_and_drops_articles():
    assert normalize_name("The Café  Müller") == "café müller"
    assert normalize_name("東京 Tower") == "東京 tower"
    assert normalize_name("A") == "a"
    assert normalize_name("O'Brien-Smith") == "o brien smith"
