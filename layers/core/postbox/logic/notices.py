"""What the email and SMS channels say (docs/channels.md), rendered from the files in postbox/templates/.

Rendering is plain substitution of `{name}` placeholders in one pass: no format-string access to objects, and a
value that itself contains `{...}` stays as it is. In the HTML part every value is escaped (message text cannot
inject markup); the text part carries the text as is. Subjects are one line. SMS is the text, cut to 160
characters with an ASCII ellipsis (a non-GSM character such as "…" would make the SMS UCS-2, 70 characters a
part).
"""

import configparser
import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
KINDS = ("message", "conversation", "reply", "note", "alert")
SUBJECT_MAX_CHARS = 200
SUMMARY_MAX_CHARS = 80
SMS_MAX_CHARS = 160
ELLIPSIS = "..."
ONE_LINE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


@dataclass(frozen=True)
class Notice:
    """One item as a recipient is told about it. `section` names its lines in notices.ini; `values` fill them."""

    section: str
    source_id: str
    text: str
    link: str
    values: dict[str, str]


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@cache
def _sections() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string((TEMPLATES / "notices.ini").read_text(encoding="utf-8"))
    return parser


@cache
def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def fill(text: str, values: dict[str, str], *, escape: bool = False) -> str:
    """Each `{name}` replaced by values[name] (HTML-escaped with `escape`); a missing name is a KeyError."""
    def one(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return html.escape(value, quote=True) if escape else value

    return PLACEHOLDER.sub(one, text)


def one_line(text: str, limit: int) -> str:
    """Control characters and line breaks become spaces (no header injection); at most `limit` characters."""
    return cut(" ".join(ONE_LINE.sub(" ", text).split()), limit)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def summary(text: str) -> str:
    """An alert's subject line: its first non-empty line, short."""
    first = next((line for line in text.splitlines() if line.strip()), text)
    return one_line(first, SUMMARY_MAX_CHARS)


def email(notice: Notice) -> Email:
    lines = _sections()[notice.section]
    subject = one_line(fill(lines["subject"], notice.values), SUBJECT_MAX_CHARS)
    values = {**notice.values, "subject": subject, "heading": one_line(fill(lines["heading"], notice.values), 1000),
              "text": notice.text, "link": notice.link, "link_label": lines["link"]}
    # The heading's {subject} is the item's; the email templates' {subject} is the subject line as sent.
    return Email(subject=subject, text=fill(template("email.txt"), values),
                 html=fill(template("email.html"), values, escape=True))


def sms(notice: Notice) -> str:
    return cut(notice.text.strip(), SMS_MAX_CHARS)


def mime(sender: str, recipient: str, source_id: str, content: Email) -> bytes:
    """A multipart/alternative message (text, then HTML) with CRLF line ends, as SES takes a raw email."""
    # cold start: the publisher imports this module too (through channels); only the channel worker builds emails
    from email import policy
    from email.message import EmailMessage
    from email.utils import formatdate

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = content.subject
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"          # RFC 3834: no auto-replies, please
    message["X-Postbox-Source"] = source_id
    # Quoted-printable keeps every line 7-bit and short, as SES wants of a raw email.
    message.set_content(content.text, cte="quoted-printable")
    message.add_alternative(content.html, subtype="html", cte="quoted-printable")
    return message.as_bytes(policy=policy.SMTP)
