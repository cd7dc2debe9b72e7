# expect: S008 line 2
import types
