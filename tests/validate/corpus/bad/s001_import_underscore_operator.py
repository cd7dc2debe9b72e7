# expect: S001 line 2
import _operator
