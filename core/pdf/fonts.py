"""CJK font configuration for PDF documents.

Documents name ``"Noto Serif CJK SC"`` and ``"Noto Sans CJK SC"`` in every font stack (Debian ``fonts-noto-cjk``,
installed by ``scripts/setup``). WeasyPrint finds fonts through fontconfig; when neither family is installed it
would silently fall back to a font without Chinese glyphs and print empty boxes, so :func:`require_cjk_font` asks
fontconfig first and refuses with a message that says what to install.

HarfBuzz subsetting (Debian ``libharfbuzz-subset0``) keeps embedding the 65,535-glyph CJK fonts fast (about 0.15 s
for a one-page document instead of about 9 s with the fontTools fallback); :func:`environment_problems` reports its
absence so that start-up checks and the first render can say so loudly.
"""

from __future__ import annotations

import functools
import logging

log = logging.getLogger(__name__)

#: The families the document layouts use, preferred first.
CJK_FAMILIES: tuple[str, ...] = ("Noto Serif CJK SC", "Noto Sans CJK SC")
INSTALL_HINT = "请安装 Debian 软件包 fonts-noto-cjk（scripts/setup 会安装）后重启服务"


class PdfError(RuntimeError):
    """A document cannot be rendered (missing fonts …); the message says why in Chinese and what to do."""


def installed_cjk_families(families: tuple[str, ...] = CJK_FAMILIES) -> list[str]:
    """The ``families`` that fontconfig resolves to themselves (installed), in the given order."""
    from weasyprint.text.ffi import ffi, fontconfig

    found = []
    config = fontconfig.FcInitLoadConfigAndFonts()
    try:
        for family in families:
            pattern = fontconfig.FcPatternCreate()
            try:
                fontconfig.FcPatternAddString(pattern, b"family", family.encode())
                fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
                fontconfig.FcDefaultSubstitute(pattern)
                result = ffi.new("FcResult *")
                match = fontconfig.FcFontMatch(config, pattern, result)
                if match == ffi.NULL:
                    continue
                try:
                    value = ffi.new("FcChar8 **")
                    # A matched font may list several family names (localised ones too): compare them all.
                    index = 0
                    while fontconfig.FcPatternGetString(match, b"family", index, value) == fontconfig.FcResultMatch:
                        if ffi.string(value[0]).decode("utf-8", "replace").lower() == family.lower():
                            found.append(family)
                            break
                        index += 1
                finally:
                    fontconfig.FcPatternDestroy(match)
            finally:
                fontconfig.FcPatternDestroy(pattern)
    finally:
        fontconfig.FcConfigDestroy(config)
    return found


@functools.cache
def _checked(families: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(installed_cjk_families(families))


def require_cjk_font(families: tuple[str, ...] | None = None) -> str:
    """The first installed CJK family, or :class:`PdfError` naming the package to install. Cached per process
    (fontconfig scans every font on the machine)."""
    wanted = families or CJK_FAMILIES
    found = _checked(wanted)
    if not found:
        raise PdfError(f"无法生成 PDF：未找到中文字体（{'、'.join(wanted)}）。{INSTALL_HINT}")
    return found[0]


def harfbuzz_subset_available() -> bool:
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


def environment_problems() -> list[str]:
    """What is wrong with this machine for PDF documents (empty when nothing is), in Chinese."""
    problems = []
    if not _checked(CJK_FAMILIES):
        problems.append(f"未找到中文字体（{'、'.join(CJK_FAMILIES)}）：{INSTALL_HINT}")
    if not harfbuzz_subset_available():
        problems.append("缺少 HarfBuzz 字体子集库（Debian 软件包 libharfbuzz-subset0）：中文 PDF 生成会慢数十倍")
    return problems
