"""The names compiled code reaches runtime helpers by, declared once.

The compiler emits them; `namespace.new_namespace` binds them. All start with `__ml_`, which
ML cannot spell (identifiers starting with `__` are refused), so a program can neither read
nor rebind a helper.
"""

from __future__ import annotations

PREFIX = "__ml_"

# operators and members (mlpy/runtime/ops.py)
ADD = "__ml_add"
MUL = "__ml_mul"
MOD = "__ml_mod"
FLOORDIV = "__ml_floordiv"
EQ = "__ml_eq"
NE = "__ml_ne"
GETM = "__ml_getm"
SETM = "__ml_setm"
METH = "__ml_meth"
ITER = "__ml_iter"
RANGE_ITER = "__ml_range_iter"    # `for (i in range(...))` without building the array
UNPACK = "__ml_unpack"
PICK = "__ml_pick"
THROW = "__ml_throw"
CATCH = "__ml_catch"
BUILTIN_OF = "__ml_builtin_of"
RETURN_TOP = "__ml_ReturnTop"
REFUSE_NAME = "__ml_refuse_name"
# Python types and exceptions the inline fast paths test against
TYPE = "__ml_type"
INT = "__ml_int"
DICT = "__ml_dict"
LIST = "__ml_list"
STR = "__ml_str"
INT_TEXT = "__ml_int_text"        # str, only ever called on an exact int: `"x" + i`
PY_LEN = "__ml_py_len"            # Python's len, for `len(s)` on a string or array local
ML_LEN = "__ml_len"               # ML's builtin len, to see the global `len` is still it
EXCEPTION = "__ml_Exception"
TYPE_ERROR = "__ml_TypeError"
# per namespace (new_namespace)
IMPORT = "__ml_import"
GUARDED_GLOBAL = "__ml_guarded_global"
MODULES = "__ml_modules"
ORIGIN = "__ml_origin"
# names the compiler makes up
DISPLAY = "__ml_display"          # the value of an interactive cell's last expression
BLOCK = "__ml_block"              # an outlined loop/try body (compiler._outline)
EXC = "__ml_exc"                  # the caught exception in an `except`
ARROW_PREFIX = "__ml_arrow_"      # functions made for arrows: __ml_arrow_1, ...
