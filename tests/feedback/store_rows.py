"""What the feedback tests share beyond conftest's ``feedback_row``: hypothesis
strategies for any valid row, and a database that refuses one row itself."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import strategies as st

from tfcls.feedback.schema import ACTIONS
from tfcls.feedback.store import FeedbackStore

text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
"""Any text a field may hold (the store refuses NUL)."""

valid_rows = st.fixed_dictionaries(
    {
        "title": text.filter(bool),
        "description": text,
        "predicted_label": st.none() | text,
        "confidence": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "chosen_label": st.none() | text,
        "action": st.sampled_from(ACTIONS),
        "model_version": text,
        "client_id": text,
        "chosen_labels": st.none() | st.lists(text.filter(str.strip), min_size=1, unique=True),
        "predicted_labels": st.none() | st.lists(text.filter(str.strip), unique=True),
    }
)
"""Any row the store accepts (single-label and label-set fields)."""


def refuse_boom(store: FeedbackStore, backend: str) -> None:
    """A trigger: the database itself refuses a row titled 'boom' (the whole insert), so
    a test can fail a write midway without mocking the store."""
    engine = sa.create_engine(store._engine.url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if backend == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON feedback WHEN NEW.title = 'boom' "
                "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.title = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON feedback FOR EACH ROW EXECUTE FUNCTION boom()"
            )
    engine.dispose()
