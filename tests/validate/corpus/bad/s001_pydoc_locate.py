# expect: S001 line 2
import pydoc

os = pydoc.locate('os')
