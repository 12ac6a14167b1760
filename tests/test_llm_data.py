"""The LLM sets written for the course: checked on load, consistent with the policies, as the datasheet says."""
import pandas as pd
import pytest

from mlecourse.lender.data.loading import DataFileError, read_checksums
from mlecourse.lender.llm import corpus, prompts


def test_every_file_is_checksummed():
    listed = read_checksums()
    for path in corpus.LLM_DIR.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.relative_to(corpus.DATA_DIR).as_posix() in listed


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(corpus.DATA_DIR / "llm", data / "llm")
    (data / "SHA256SUMS").write_text((corpus.DATA_DIR / "SHA256SUMS").read_text())
    (data / "llm" / "intents.csv").write_text("id,message,intent,split\nm1,hi,complaint,train\n")
    monkeypatch.setattr(corpus, "DATA_DIR", data)
    monkeypatch.setattr(corpus, "LLM_DIR", data / "llm")
    with pytest.raises(DataFileError, match="has changed"):
        corpus.intents()


def test_each_question_names_a_sentence_of_its_document():
    docs = {d.id: d.text for d in corpus.policies()}
    questions = corpus.questions()
    for q in questions[questions["answerable"]].itertuples():
        assert q.evidence in docs[q.doc], q.id
        assert all(f.lower() in docs[q.doc].lower() for f in q.facts), q.id
    assert questions["id"].is_unique and (~questions["answerable"]).sum() >= 15
    assert set(questions["split"]) == {"dev", "test"}


def test_intents_are_balanced_and_split():
    intents = corpus.intents()
    counts = pd.crosstab(intents["intent"], intents["split"])
    assert set(counts.index) == set(prompts.INTENTS)
    assert counts["train"].nunique() == 1 and counts["test"].nunique() == 1


def test_judged_answers_are_labelled_for_dev_questions_only():
    judged, questions = corpus.judged_answers(), corpus.questions().set_index("id")
    assert set(questions.loc[judged["qid"], "split"]) == {"dev"}
    assert judged["acceptable"].sum() >= 5 and (~judged["acceptable"]).sum() >= 5


def test_attacks_and_jailbreaks_are_well_formed():
    attacks = corpus.attacks()
    assert set(attacks["goal"]) == {"approve", "link", "leak"} and set(attacks["channel"]) == {"message", "document"}
    assert (attacks.loc[attacks["channel"] == "document", "question"] != "").all()
    jail = corpus.jailbreaks()
    assert jail["harmful"].sum() == (~jail["harmful"]).sum()


def test_the_datasheet_states_the_counts_the_files_hold():
    from mlecourse.lender.llm import retrieval

    sheet = (corpus.LLM_DIR / "README.md").read_text()
    documents, questions, intents = corpus.policies(), corpus.questions(), corpus.intents()
    attacks, jail, judged = corpus.attacks(), corpus.jailbreaks(), corpus.judged_answers()
    facts = [
        f"{len(documents)} documents, {len(retrieval.by_paragraph(documents))} paragraphs",
        f"{len(questions)} ({questions['answerable'].sum()} answerable, {(~questions['answerable']).sum()} not)",
        f"{len(intents)} ({(intents['intent'] == 'complaint').sum()} per team; "
        f"{(intents['split'] == 'train').sum()} train, {(intents['split'] == 'test').sum()} test)",
        f"{len(judged)} ({judged['acceptable'].sum()} acceptable)",
        f"{len(attacks)} ({(attacks['channel'] == 'message').sum()} message, {(attacks['channel'] == 'document').sum()} document)",
        f"{len(jail)} ({jail['harmful'].sum()} and {(~jail['harmful']).sum()})",
    ]
    for fact in facts:
        assert fact in sheet, fact
