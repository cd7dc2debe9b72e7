# expect: S012 line 2
import _pickle
