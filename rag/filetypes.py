"""What kind of document a file is, from its name, its declared content type and its first bytes."""

from __future__ import annotations

import pathlib
from typing import Literal

DocumentKind = Literal["pdf", "docx", "pptx", "markdown", "html", "text", "code", "json", "yaml", "xml", "csv"]

_KIND_BY_EXTENSION: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".rst": "text",
    ".tex": "text",
    ".json": "json",
    ".jsonl": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".xml": "xml",
    ".csv": "csv",
}
# OpenAI's file_search list of code files, and a few more that are plain text.
_CODE_EXTENSIONS = frozenset(
    [
        ".py",
        ".js",
        ".ts",
        ".tsx",
        ".jsx",
        ".java",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cs",
        ".go",
        ".rb",
        ".php",
        ".rs",
        ".swift",
        ".kt",
        ".scala",
        ".sh",
        ".bash",
        ".sql",
        ".css",
        ".r",
        ".lua",
        ".pl",
        ".m",
        ".toml",
        ".ini",
        ".cfg",
        ".proto",
        ".dockerfile",
        ".gradle",
        ".vue",
        ".svelte",
    ]
)
_KIND_BY_CONTENT_TYPE: dict[str, DocumentKind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "text/markdown": "markdown",
    "text/html": "html",
    "text/plain": "text",
    "application/json": "json",
    "application/x-yaml": "yaml",
    "application/yaml": "yaml",
    "text/yaml": "yaml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
}
_IMAGE_EXTENSIONS = frozenset(
    [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".svg", ".ico"]
)
_AUDIO_EXTENSIONS = frozenset(
    [".mp3", ".wav", ".m4a", ".ogg", ".oga", ".flac", ".aac", ".opus", ".weba", ".mp4", ".mpeg", ".mpga", ".webm"]
)
_LEGACY_OFFICE = {".doc": "Word 97-2003 (.doc)", ".ppt": "PowerPoint 97-2003 (.ppt)", ".xls": "Excel (.xls)"}
# Leading bytes of common image and audio formats, for files whose name says nothing.
_MEDIA_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
    (b"ID3", "audio"),
    (b"fLaC", "audio"),
    (b"OggS", "audio"),
)


class UnsupportedKind(Exception):
    """A file Ringside does not parse (images, audio, unknown binary), with a message saying why."""


def detect_kind(filename: str, content_type: str | None, head: bytes) -> DocumentKind:
    """The document kind of a file; raises UnsupportedKind with a customer-facing message.

    The name's extension decides first (it is what OpenAI's file_search goes by), then the
    declared content type, then the bytes: a file with neither that decodes as UTF-8 is text.
    """
    extension = pathlib.PurePosixPath(filename.lower()).suffix
    media = _media_kind(extension, content_type, head)
    if media is not None:
        raise UnsupportedKind(f"{media} files are not supported for file search yet ({filename!r})")
    if extension in _LEGACY_OFFICE:
        raise UnsupportedKind(f"{_LEGACY_OFFICE[extension]} files are not supported: save it as .docx, .pptx or .csv")
    if extension in _KIND_BY_EXTENSION:
        return _KIND_BY_EXTENSION[extension]
    if extension in _CODE_EXTENSIONS:
        return "code"
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in _KIND_BY_CONTENT_TYPE:
        return _KIND_BY_CONTENT_TYPE[declared]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if _looks_like_text(head):
        return "text"
    raise UnsupportedKind(f"the file type of {filename!r} is not supported (an unknown binary format)")


def _media_kind(extension: str, content_type: str | None, head: bytes) -> str | None:
    declared = (content_type or "").split("/")[0].strip().lower()
    if extension in _IMAGE_EXTENSIONS or declared == "image":
        return "image"
    if extension in _AUDIO_EXTENSIONS or declared in ("audio", "video"):
        return "audio"
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"WEBP"):
        return "audio" if head[8:12] == b"WAVE" else "image"
    for signature, media in _MEDIA_SIGNATURES:
        if head.startswith(signature):
            return media
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character; only a bad byte before that counts.
        return error.start >= len(head) - 3
    return True


def media_kind(filename: str, head: bytes) -> str | None:
    """ "image" or "audio" for a file Ringside parses only through a configured vision or
    transcription model (issue 17), else None."""
    return _media_kind(pathlib.PurePosixPath(filename.lower()).suffix, None, head)
