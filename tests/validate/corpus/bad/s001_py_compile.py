# expect: S001 line 2
import py_compile
