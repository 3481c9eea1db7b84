"""Help texts of the string and array methods and of `length` (spec §9).

These methods are Python's own (or thin wrappers, ops.STRING_METHODS / ops.ARRAY_METHODS), so
their ML documentation is written here, once: `describe.method_help` reads it for the
kernel's Shift-Tab and `NAME?`. A test checks it names exactly the methods ops provides."""

from __future__ import annotations

METHOD_DOCS: dict[str, dict[str, str]] = {
    "string": {
        "upper": "upper()\n\nA copy with every letter in upper case.",
        "lower": "lower()\n\nA copy with every letter in lower case.",
        "capitalize": "capitalize()\n\nA copy with the first letter upper case, the rest lower.",
        "title": "title()\n\nA copy with each word's first letter upper case.",
        "swapcase": "swapcase()\n\nA copy with upper and lower case swapped.",
        "strip": "strip(chars?)\n\nA copy without leading and trailing whitespace (or chars).",
        "lstrip": "lstrip(chars?)\n\nA copy without leading whitespace (or chars).",
        "rstrip": "rstrip(chars?)\n\nA copy without trailing whitespace (or chars).",
        "replace": "replace(old, new, count?)\n\nA copy with occurrences of old replaced "
                   "by new (the first count only, if given).",
        "split": "split(sep?, maxsplit?)\n\nAn array of the parts between sep; without sep, "
                 "split at runs of whitespace.",
        "rsplit": "rsplit(sep?, maxsplit?)\n\nAs split, counting maxsplit from the right.",
        "join": "join(array)\n\nThe array's strings joined with this string between them.",
        "startswith": "startswith(prefix)\n\ntrue if the string starts with prefix.",
        "endswith": "endswith(suffix)\n\ntrue if the string ends with suffix.",
        "find": "find(sub)\n\nIndex of the first sub, or -1 if absent.",
        "rfind": "rfind(sub)\n\nIndex of the last sub, or -1 if absent.",
        "index": "index(sub)\n\nIndex of the first sub; ValueError: substring not found.",
        "rindex": "rindex(sub)\n\nIndex of the last sub; ValueError: substring not found.",
        "count": "count(sub)\n\nHow many times sub occurs (not overlapping).",
        "isdigit": "isdigit()\n\ntrue if not empty and every character is a digit.",
        "isalpha": "isalpha()\n\ntrue if not empty and every character is a letter.",
        "isalnum": "isalnum()\n\ntrue if not empty and every character is a letter or digit.",
        "isspace": "isspace()\n\ntrue if not empty and every character is whitespace.",
        "isupper": "isupper()\n\ntrue if it has letters and all are upper case.",
        "islower": "islower()\n\ntrue if it has letters and all are lower case.",
        "istitle": "istitle()\n\ntrue if each word starts upper case and goes on lower case.",
        "center": "center(width, fill?)\n\nCentred in width characters, padded with fill "
                  "(a space).",
        "ljust": "ljust(width, fill?)\n\nLeft-aligned in width characters.",
        "rjust": "rjust(width, fill?)\n\nRight-aligned in width characters.",
        "length": "length\n\nThe number of characters (a property, not a method).",
    },
    "array": {
        "append": "append(x)\n\nAdds x at the end; returns null.",
        "extend": "extend(arr)\n\nAdds arr's elements at the end; returns null.",
        "insert": "insert(i, x)\n\nInserts x before index i; returns null.",
        "remove": "remove(x)\n\nRemoves the first element equal to x; ValueError if none.",
        "clear": "clear()\n\nRemoves every element; returns null.",
        "sort": "sort(reverse=false)\n\nSorts the array in place; returns null.",
        "reverse": "reverse()\n\nReverses the array in place; returns null.",
        "pop": "pop(i?)\n\nRemoves and returns the last element (or the one at i); "
               "IndexError: pop from empty list.",
        "index": "index(x)\n\nIndex of the first element equal to x; ValueError: x is not "
                 "in list.",
        "count": "count(x)\n\nHow many elements equal x.",
        "copy": "copy()\n\nA shallow copy.",
        "length": "length\n\nThe number of elements (a property, not a method).",
    },
}
