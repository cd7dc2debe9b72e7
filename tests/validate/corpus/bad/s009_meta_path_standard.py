# expect: S009 line 5
# profile: standard
import sys

sys.meta_path.insert(0, object())
