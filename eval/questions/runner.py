"""Ask the variant questions through the ``Assistant``, one fresh conversation each, and score
the replies (see :meth:`eval.questions.questions.VariantQuestion.check`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eval.questions.questions import KINDS, VariantQuestion
from services import Services


@dataclass
class Answer:
    question: VariantQuestion
    reply: str
    problem: str | None

    @property
    def right(self) -> bool:
        return self.problem is None


@dataclass
class QuestionReport:
    catalog: str
    llm: str | None
    answers: list[Answer] = field(default_factory=list)

    def score(self, kind: str | None = None) -> tuple[int, int]:
        chosen = [a for a in self.answers if kind is None or a.question.kind == kind]
        return sum(a.right for a in chosen), len(chosen)

    def to_dict(self) -> dict[str, Any]:
        def row(kind: str | None) -> dict[str, Any]:
            right, total = self.score(kind)
            return {"right": right, "asked": total, "share": round(right / total, 4) if total else 0.0}

        return {
            "catalog": self.catalog,
            "llm": self.llm,
            "all": row(None),
            "by_kind": {kind: row(kind) for kind in KINDS},
            "wrong": [
                {"question": a.question.text, "kind": a.question.kind, "reply": a.reply, "problem": a.problem}
                for a in self.answers
                if not a.right
            ],
        }


def ask_all(
    services: Services,
    questions: list[VariantQuestion],
    *,
    catalog: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> QuestionReport:
    assistant = services.require_assistant()
    llm = services.llm.name if services.llm is not None else None
    report = QuestionReport(catalog=catalog, llm=llm)
    for number, question in enumerate(questions, 1):
        session_id = assistant.start_session(channel="eval")
        reply = assistant.handle(session_id, question.text, channel="eval").text
        report.answers.append(Answer(question, reply, question.check(reply)))
        if progress is not None:
            progress("questions", number, len(questions))
    return report
