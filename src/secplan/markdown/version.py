"""The parser's version, importable without the parser (a warm check parses nothing)."""

#: Bump whenever parsing results change, so cached results from older code are not reused.
PARSER_VERSION = "12"
