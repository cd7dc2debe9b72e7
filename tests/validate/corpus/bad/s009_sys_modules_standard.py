# expect: S009 line 5
# profile: standard
import sys

os_mod = sys.modules['os']
