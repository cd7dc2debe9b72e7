# expect: S001 line 2
import code
