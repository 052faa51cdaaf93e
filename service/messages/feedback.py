"""Feedback: feedback, loadFeedbacks, updateFeedback and deleteFeedback (no game needed).

Each acts as the connection's author (service/feedback.py says who that is): a client that
sends no `authorToken` uses the one this connection was issued, if any. The writes draw on
the per-address feedback limit; listing is a read of at most the per-author cap.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.errors import error_for
from service.feedback import author_of, new_author_token, new_feedback_id
from service.messages.base import Call, MessageType, Reply, Sender
from service.protocol import FeedbackEdit, FeedbackRef, NewFeedback


async def _charge(call: Call) -> None:
    s = call.session
    if await s.deps.limiter.check(s.ip, s.deps.feedback_limit) is not None:
        s.deps.metrics.rate_limited.labels("feedback").inc()
        raise error_for("RATE_LIMITED")


def _author(call: Call, token: str | None) -> str | None:
    """The author this frame acts as; a token the client sent becomes the connection's."""
    if token is not None:
        call.session.feedback_token = token
    known = call.session.feedback_token
    return None if known is None else author_of(known)


async def submit(call: Call, args: NewFeedback) -> Reply:
    await _charge(call)
    s = call.session
    # the first feedback of a connection without a token makes it an author
    token = args.author_token or s.feedback_token or new_author_token()
    s.feedback_token = token
    author = author_of(token)
    fid = new_feedback_id(author, call.msg.request_id)
    await s.deps.feedback.submit(author, fid, args.text)
    data = {"message": "Thank you for your feedback!", "id": fid, "authorToken": token}
    return Reply(first=(("feedbackSubmitted", data),))


async def load(call: Call, token: str | None) -> Reply:
    author = _author(call, token)
    # nothing was ever written as nobody: no need to ask Redis
    feedbacks = [] if author is None else await call.session.deps.feedback.list(author)
    return Reply(first=(("feedbackList", {"feedbacks": feedbacks}),))


async def update(call: Call, args: FeedbackEdit) -> Reply:
    await _charge(call)
    author = _author(call, args.author_token)
    if author is None:
        raise error_for("FEEDBACK_NOT_FOUND")
    await call.session.deps.feedback.update(author, args.feedback_id, args.text)
    return Reply(first=(("feedbackUpdated", {"message": "Feedback updated!"}),))


async def delete(call: Call, args: FeedbackRef) -> Reply:
    await _charge(call)
    author = _author(call, args.author_token)
    if author is None:
        raise error_for("FEEDBACK_NOT_FOUND")
    await call.session.deps.feedback.delete(author, args.feedback_id)
    return Reply(first=(("feedbackDeleted", {"message": "Feedback deleted!"}),))


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("feedback", protocol.new_feedback, Sender.ANYONE, submit),
    MessageType("loadFeedbacks", protocol.feedback_author, Sender.ANYONE, load),
    MessageType("updateFeedback", protocol.feedback_edit, Sender.ANYONE, update),
    MessageType("deleteFeedback", protocol.feedback_ref, Sender.ANYONE, delete),
)
