"""Text that JSON can carry but PostgreSQL and our UTF-8 responses cannot: lone UTF-16 surrogates
(and NUL, which PostgreSQL refuses in text)."""


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_safe(text: str) -> str:
    """`text` with every unencodable character replaced by U+FFFD, for echoing it back."""
    return text if is_utf8(text) else text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def storable(text: str) -> str:
    """`text` as a database column can hold it: no NUL, no lone surrogates."""
    return utf8_safe(text).replace("\x00", "")
