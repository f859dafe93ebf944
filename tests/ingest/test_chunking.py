from hippo.ingest.chunking import chunk_text
from hippo.text import count_tokens


def test_short_text_is_one_passage_with_title_line():
    assert chunk_text("Alpha is a star.", "Alpha") == ["Alpha\nAlpha is a star."]


def test_title_not_repeated_when_text_starts_with_it():
    assert chunk_text("Alpha\nAlpha is a star.", "Alpha") == ["Alpha\nAlpha is a star."]


def test_long_text_respects_budget_and_overlaps_whole_sentences():
    sentences = [f"Sentence number {i} talks about star {i}." for i in range(60)]
    passages = chunk_text(" ".join(sentences), "Stars", max_tokens=50, overlap=10)
    assert len(passages) > 5
    for passage in passages:
        body = passage.split("\n", 1)[1]
        assert passage.startswith("Stars\n")
        assert count_tokens(body) <= 50
    # every sentence is kept, and consecutive passages share their boundary sentence
    joined = " ".join(passages)
    assert all(s in joined for s in sentences)
    first, second = passages[0].split("\n", 1)[1], passages[1].split("\n", 1)[1]
    assert first.split(". ")[-1].rstrip(".") in second


def test_sentence_longer_than_budget_is_cut():
    words = " ".join(f"w{i}" for i in range(130))
    passages = chunk_text(words, max_tokens=50, overlap=0)
    assert [count_tokens(p) for p in passages] == [50, 50, 30]
