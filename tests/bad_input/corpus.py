"""A generated corpus of bad input, the same on every run (no randomness without a seed).

``texts()``: message texts visitors (or attackers) type: empty, whitespace, 100 kB,
control characters, lone surrogates, right-to-left text, emoji, HTML and script, SQL,
YAML/JSON fragments and Rasa payloads, template syntax, very long words, odd Unicode,
other scripts, and the same message sent again and again. Most base texts also come
inside a real question and three times over.

``gateway_requests()`` / ``rest_requests()``: malformed HTTP requests: wrong content
type, broken JSON, JSON that is not an object, missing fields, wrong types, bodies that
are not UTF-8, huge or deeply nested bodies, wrong methods, and (gateway) unknown,
forged or broken session cookies.

``python -m tests.bad_input.corpus`` prints the number of cases per category.
"""

from __future__ import annotations

import json
import random
import string
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List

SEED = 20261121
QUESTION = "is dry needling safe?"  # answered after the corpus: the conversation goes on
# around the bad text (not QUESTION: the staff console's tests look for that exact text)
CONTEXT = "does dry needling help back pain?"
HUNDRED_KB = 100_000


@dataclass(frozen=True)
class TextCase:
    """One message text to send."""

    category: str
    name: str
    text: str


@dataclass(frozen=True)
class RequestCase:
    """One HTTP request; ``content_type`` None sends no Content-Type header."""

    category: str
    name: str
    method: str = "POST"
    body: bytes = b""
    content_type: str | None = "application/json"
    cookie: str | None = None  # the gateway's session cookie, as sent


# --- texts -----------------------------------------------------------------------

WHITESPACE = {
    "space": " ",
    "spaces": "     ",
    "tab": "\t",
    "newline": "\n",
    "crlf": "\r\n",
    "newlines": "\n\n\n",
    "mixed": " \t\n \r ",
    "nbsp": "\u00a0",
    "en space": "\u2002",
    "em space": "\u2003",
    "thin space": "\u2009",
    "ideographic space": "\u3000",
    "zero width space": "\u200b",
    "byte order mark": "\ufeff",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "mongolian vowel separator": "\u180e",
    "medium math space": "\u205f",
}

CONTROL = {f"U+{cp:04X}": chr(cp) for cp in [*range(0x20), 0x7F, 0x80, 0x85, 0x9B, 0x9F]}
CONTROL_SEQUENCES = {
    "ansi colour": "\x1b[31mred\x1b[0m",
    "terminal title": "\x1b]0;owned\x07",
    "backspaces": "safe\b\b\b\bdanger",
    "carriage return": "safe\rdanger",
    "nul in a word": "dry\x00needling",
    "form feeds": "\f\f\f",
    "vertical tabs": "\v\v",
}

RIGHT_TO_LEFT = {
    "arabic": "مرحبا، هل الإبر الجافة آمنة؟",
    "hebrew": "שלום, האם דיקור יבש בטוח?",
    "persian": "آیا سوزن خشک درد دارد؟",
    "urdu": "کیا ڈرائی نیڈلنگ محفوظ ہے؟",
    "right-to-left override": "\u202eevil.exe",
    "left-to-right override": "\u202dforced",
    "override inside a word": "book\u202ekoob",
    "isolates": "\u2066isolated\u2069 \u2067rtl\u2069",
    "right-to-left mark": "\u200fmark\u200f",
    "mixed direction": "is it safe? هل هو آمن؟",
    "arabic digits": "٠١٢٣٤٥٦٧٨٩",
    "hebrew with numbers": "כאב גב 3 שבועות",
}

EMOJI = {
    "one": "😀",
    "skin tone": "👍🏽",
    "family zwj": "👨‍👩‍👧‍👦",
    "flag zwj": "🏳️‍🌈",
    "flags": "🇬🇧🇺🇸🇩🇪",
    "variation selector": "❤️",
    "needle fire pray": "💉🔥🙏",
    "with words": "🤕 my back hurts",
    "inside words": "neck 😫 pain",
    "keycaps": "1️⃣2️⃣3️⃣",
    "health worker": "🧑🏿‍⚕️",
    "five hundred": "😀" * 500,
    "dangling zwj": "😀\u200d" * 10,
    "new emoji": "🫠🫡🫶",
    "emoji and text": "is 💉 safe??? 😬😬",
}

HTML = {
    "script": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "svg onload": "<svg onload=alert(1)>",
    "javascript url": "javascript:alert(1)",
    "javascript link": '<a href="javascript:alert(1)">click</a>',
    "iframe": "<iframe src=//evil.example></iframe>",
    "attribute breakout": '"><script>alert(document.cookie)</script>',
    "body onload": "<body onload=alert(1)>",
    "style": "<style>*{display:none}</style>",
    "comment open": "<!--",
    "comment close": "-->",
    "cdata": "<![CDATA[x]]>",
    "entities": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "numeric entities": "&#60;script&#62;alert(1)&#60;/script&#62;",
    "mutation xss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "markdown javascript link": "[click me](javascript:alert(1))",
    "markdown link": "**bold** [x](http://evil.example)",
    "meta refresh": "<meta http-equiv=refresh content=0;url=//evil.example>",
    "form": "<form action=//evil.example><input name=q></form>",
    "textarea breakout": "</textarea><script>alert(1)</script>",
}

SQL = {
    "or true": "' OR '1'='1",
    "drop events": "'; DROP TABLE events; --",
    "delete bookings": '"; DELETE FROM bookings; --',
    "stacked select": "1; SELECT * FROM staff_users",
    "union": "' UNION SELECT sender_id, data FROM events --",
    "comment": "admin'--",
    "like": "%' AND 1=1 --",
    "insert": "'); INSERT INTO bookings VALUES(1); --",
    "mysql sleep": "1' AND SLEEP(5)#",
    "pg sleep": "' OR pg_sleep(5)--",
    "escaped quote": "\\'; SELECT 1; --",
    "wildcard": "SELECT * FROM events WHERE sender_id LIKE '%'",
    "bobby tables": "Robert'); DROP TABLE Students;--",
    "empty string or": "'' OR 1=1",
    "update": "UPDATE bookings SET status='confirmed'",
    "attach": "ATTACH DATABASE '/tmp/x.db' AS x; --",
    "pragma": "PRAGMA writable_schema=1;",
    "hex": "0x27204f5220313d31",
}

STRUCTURED = {
    "yaml mapping": "key: value",
    "yaml list": "- item\n- item",
    "yaml python tag": "!!python/object/apply:os.system ['ls']",
    "yaml alias bomb": "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]",
    "yaml document": "---\nfoo: bar\n...",
    "yaml merge": "<<: *base",
    "yaml complex key": "? complex key\n: value",
    "json object": '{"message": "hi"}',
    "json list": "[1, 2, 3]",
    "json null": "null",
    "json true": "true",
    "json other sender": '{"sender": "someone-else", "message": "hi"}',
    "json proto": '{"__proto__": {"admin": true}}',
    "rasa nlu yaml": "nlu:\n- intent: greet\n  examples: |\n    - hi",
    "payload greet entities": '/greet{"name": "x"}',
    "payload restart": "/restart",
    "payload session start": "/session_start",
    "payload fallback": "/nlu_fallback",
    "payload action listen": "/action_listen",
    "payload out of scope": "/out_of_scope",
    "payload safety": "/ask_safety",
    "payload unknown intent": "/no_such_intent",
    "payload broken entities": "/greet{",
    "payload reversed braces": "/greet}{",
    "payload empty entities": "/{}",
    "payload wrong entity type": '/greet{"body_part": [1, 2]}',
    "double slash": "//",
    "slash": "/",
}

TEMPLATES = {
    "slot": "{slot}",
    "clinic name slot": "{clinic_name}",
    "clinic phone slot": "{clinic_phone}",
    "patient name slot": "{patient_name}",
    "booking reference": "{{booking_reference}}",
    "jinja arithmetic": "{{7*7}}",
    "shell variable": "${x}",
    "el arithmetic": "${7*7}",
    "printf": "%s",
    "printf many": "%d %s %n %x",
    "printf named": "%(name)s",
    "format index": "{0}",
    "format attribute": "{0.__class__}",
    "format conversion": "{!r}",
    "format width": "{:>99999999}",
    "jinja config": "{{config}}",
    "jinja loop": "{% for x in range(10) %}x{% endfor %}",
    "erb": "<%= 7*7 %>",
    "ruby interpolation": "#{7*7}",
    "github expression": "${{7*7}}",
    "jinja subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "angular": "[[7*7]]",
    "command substitution": "$(whoami)",
    "backticks": "`id`",
    "escaped nul": "\\u0000",
    "url encoded nul": "%00",
    "header injection": "%0d%0aSet-Cookie: x=1",
}

ODD_UNICODE = {
    "zalgo": "n̸̡̛e̷̢e̶̜d̷̨l̶̰e̸̙",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
    "half an emoji": "safe? \ud83d",
    "noncharacter fffe": "\ufffe",
    "noncharacter ffff": "\uffff",
    "last code point": "\U0010ffff",
    "private use": "\ue000\uf8ff",
    "ligature": "ﬁne ﬂow",
    "fullwidth": "Ｉｓ ｉｔ ｓａｆｅ？",
    "math script": "𝓲𝓼 𝓲𝓽 𝓼𝓪𝓯𝓮",
    "combining accent": "e\u0301 cafe\u0301",
    "case folding": "İstanbul ß ŉ ǅ",
    "soft hyphens": "nee\u00addle",
    "replacement character": "\ufffd\ufffd",
    "word joiners": "dry\u2060needling",
}

OTHER_SCRIPTS = {
    "chinese": "我的背很痛，针灸有用吗？",
    "japanese": "ドライニードリングは安全ですか？",
    "korean": "드라이 니들링은 안전한가요?",
    "hindi": "क्या ड्राई नीडलिंग सुरक्षित है?",
    "thai": "การฝังเข็มแบบแห้งปลอดภัยไหม",
    "greek": "Είναι ασφαλές το dry needling;",
    "russian": "У меня болит шея",
    "armenian": "Արդյո՞ք դա անվտանգ է",
    "georgian": "უსაფრთხოა?",
    "amharic": "ደህና ነው?",
}

# base texts used alone, inside the question and three times over
VARIED = {
    "control characters": {**CONTROL, **CONTROL_SEQUENCES},
    "right-to-left": RIGHT_TO_LEFT,
    "emoji": EMOJI,
    "html and script": HTML,
    "sql": SQL,
    "yaml, json and payloads": STRUCTURED,
    "template syntax": TEMPLATES,
    "odd unicode": ODD_UNICODE,
    "other scripts": OTHER_SCRIPTS,
}
REPEATS = {QUESTION: 25, "hi": 10, "<script>alert(1)</script>": 10, "": 5}


def _random_words(rng: random.Random, chars: int) -> str:
    words: List[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 12))))
    return " ".join(words)[:chars]


def _sizes(rng: random.Random) -> Dict[str, str]:
    return {
        "1,999 characters": "a" * 1999,
        "2,000 characters": "b" * 2000,
        "2,001 characters": "c" * 2001,
        "5,000 characters of words": _random_words(rng, 5000),
        "16 kB": "d" * 16_384,
        "100 kB of one letter": "a" * HUNDRED_KB,
        "100 kB of a complaint": ("back pain " * (HUNDRED_KB // 10)),
        "100 kB of emoji (400 kB of UTF-8)": "😀" * HUNDRED_KB,
        "100 kB of words": _random_words(rng, HUNDRED_KB),
        "100 kB of questions": (CONTEXT + " ") * (HUNDRED_KB // (len(CONTEXT) + 1)),
        "100 kB of newlines": "\n" * HUNDRED_KB,
        "100 kB of html": "<b>" * (HUNDRED_KB // 3),
    }


def _long_words(rng: random.Random) -> Dict[str, str]:
    return {
        "1,000 letters": "a" * 1000,
        "2,000 letters": "n" * 2000,
        "5,000 letters": "e" * 5000,
        "10,000 letters": "x" * 10_000,
        "repeated word": "supercalifragilistic" * 100,
        "needle x 300": "needle" * 300,
        "random letters": "".join(rng.choices(string.ascii_letters, k=3000)),
        "long url": "https://example.com/" + "a" * 3000,
        "hyphens": "a" + "-" * 2000,
        "digits": "".join(rng.choices(string.digits, k=2500)),
        "long word in a question": f"is {'dry' * 600} needling safe?",
    }


def texts() -> List[TextCase]:
    """Every message text of the corpus, in a fixed order."""
    rng = random.Random(SEED)
    cases = [TextCase("empty", "empty", "")]
    cases += [TextCase("whitespace", name, text) for name, text in WHITESPACE.items()]
    cases += [
        TextCase("whitespace", f"{name} around", f"{t}{CONTEXT}{t}")
        for name, t in WHITESPACE.items()
    ]
    cases += [TextCase("size (up to 100 kB)", n, t) for n, t in _sizes(rng).items()]
    cases += [TextCase("very long words", n, t) for n, t in _long_words(rng).items()]
    for category, base in VARIED.items():
        for name, text in base.items():
            cases.append(TextCase(category, name, text))
            cases.append(TextCase(category, f"{name} in a question", f"{CONTEXT} {text}"))
            cases.append(TextCase(category, f"{name} three times", " ".join([text] * 3)))
    for text, times in REPEATS.items():
        cases += [TextCase("repeated", f"{text[:20]!r} #{i + 1}", text) for i in range(times)]
    return cases


# --- requests --------------------------------------------------------------------


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _bodies(message: Dict[str, object]) -> List[RequestCase]:
    """Malformed bodies around a good ``message`` object (gateway or REST fields)."""
    good = _json(message)
    cases = [
        RequestCase("wrong content type", f"{ct.split(';')[0]}", body=body, content_type=ct)
        for ct, body in [
            ("text/plain", b"hello"),
            ("text/plain;charset=UTF-8", good),
            ("application/x-www-form-urlencoded", b"message=hello&sender=x"),
            (
                "multipart/form-data; boundary=x",
                b'--x\r\nContent-Disposition: form-data; name="message"\r\n\r\nhello\r\n--x--\r\n',
            ),
            ("application/xml", b"<message>hello</message>"),
            ("text/html", b"<p>hello</p>"),
            ("application/octet-stream", good),
        ]
    ]
    cases.append(RequestCase("wrong content type", "none", body=good, content_type=None))
    broken = {
        "empty body": b"",
        "truncated": good[:-3],
        "trailing comma": good[:-1] + b",}",
        "single quotes": good.replace(b'"', b"'"),
        "unquoted keys": b"{message: hello}",
        "comment": b'{"message": "hi" /* comment */}',
        "nan": b'{"message": NaN}',
        "two objects": good + good,
        "unclosed string": b'{"message": "hi}',
        "bare word": b"hello",
        "only brace": b"{",
        "deeply nested": b"[" * 5000 + b"]" * 5000,
        "nested objects": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    }
    cases += [RequestCase("broken json", n, body=b) for n, b in broken.items()]
    not_object = {
        "list": b'["hello"]',
        "string": b'"hello"',
        "number": b"42",
        "true": b"true",
        "null": b"null",
        "list of objects": b"[" + good + b"]",
    }
    cases += [RequestCase("json not an object", n, body=b) for n, b in not_object.items()]
    without_message = {k: v for k, v in message.items() if k != "message"}
    missing = {
        "empty object": {},
        "no message": without_message,
        "text instead of message": {**without_message, "text": "hello"},
        "Message capitalised": {**without_message, "Message": "hello"},
    }
    cases += [RequestCase("missing fields", n, body=_json(v)) for n, v in missing.items()]
    wrong = {
        "number": 42,
        "float": 1.5,
        "null": None,
        "true": True,
        "list": ["hello"],
        "object": {"text": "hello"},
    }
    cases += [
        RequestCase("wrong types", f"message {n}", body=_json({**message, "message": v}))
        for n, v in wrong.items()
    ]
    not_utf8 = {
        "latin-1": '{"message": "caf\u00e9"}'.encode("latin-1"),
        "ff fe": b'{"message": "\xff\xfe"}',
        "bad continuation": b'{"message": "\xc3\x28"}',
        "overlong slash": b'{"message": "\xc0\xaf"}',
        "encoded surrogate": b'{"message": "\xed\xa0\x80"}',
        "truncated sequence": b'{"message": "\xe2\x82"}',
        "utf-16": '{"message": "hello"}'.encode("utf-16"),
        "only ff": b"\xff" * 10,
    }
    cases += [RequestCase("invalid utf-8 bytes", n, body=b) for n, b in not_utf8.items()]
    huge = {
        "1 MB message": _json({**message, "message": "a" * 1_000_000}),
        "5 MB of spaces": b" " * 5_000_000,
        "100,000 keys": b"{" + b",".join(b'"k%d": 1' % i for i in range(100_000)) + b"}",
    }
    cases += [RequestCase("huge bodies", n, body=b) for n, b in huge.items()]
    cases += [
        RequestCase("wrong methods", method, method=method, body=good)
        for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS")
    ]
    return cases


def gateway_requests() -> List[RequestCase]:
    """Malformed requests to ``POST /api/chat``, and unknown or broken session cookies."""
    rng = random.Random(SEED + 1)
    good = _json({"message": QUESTION})
    alphabet = string.ascii_letters + string.digits + "-_"
    cookies = {
        "unknown well-formed": "".join(rng.choices(alphabet, k=43)),
        "all zeros": "0" * 43,
        "too short": "abc",
        "too long": "a" * 4000,
        "empty": "",
        "bad characters": "../../etc/passwd%00",
        "quotes": '"' + "a" * 41 + '"',
        "script": "<script>alert(1)</script>",
        "sql": "' OR '1'='1",
        "44 characters": "".join(rng.choices(alphabet, k=44)),
        "unicode": "ü" * 43,
    }
    cases = _bodies({"message": QUESTION})
    cases += [
        RequestCase("session cookies", name, body=good, cookie=value)
        for name, value in cookies.items()
    ]
    return cases


def rest_requests(sender: str) -> List[RequestCase]:
    """Malformed requests to Rasa's REST channel, plus wrong ``sender``/metadata types."""
    cases = _bodies({"sender": sender, "message": QUESTION})
    wrong = {
        "sender number": {"sender": 5, "message": QUESTION},
        "sender null": {"sender": None, "message": QUESTION},
        "sender object": {"sender": {"id": 1}, "message": QUESTION},
        "sender empty": {"sender": "", "message": QUESTION},
        "sender 5,000 characters": {"sender": "s" * 5000, "message": QUESTION},
        "metadata string": {"sender": sender, "message": QUESTION, "metadata": "zz"},
        "metadata list": {"sender": sender, "message": QUESTION, "metadata": [1]},
        "input_channel object": {"sender": sender, "message": QUESTION, "input_channel": {}},
    }
    cases += [RequestCase("wrong types", n, body=_json(v)) for n, v in wrong.items()]
    return cases


def counts(cases: Iterable[TextCase | RequestCase]) -> Dict[str, int]:
    return dict(Counter(case.category for case in cases))


if __name__ == "__main__":
    for title, group in (
        ("texts", texts()),
        ("gateway requests", gateway_requests()),
        ("REST requests", rest_requests("sender")),
    ):
        print(f"{title}: {len(group)}")
        for category, count in counts(group).items():
            print(f"  {category}: {count}")
