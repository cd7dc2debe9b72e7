# expect: S001 line 2 col 7
import os.path as p
