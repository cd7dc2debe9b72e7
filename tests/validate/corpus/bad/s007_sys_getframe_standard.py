# expect: S007 line 5
# profile: standard
import sys

frame = sys._getframe(1)
