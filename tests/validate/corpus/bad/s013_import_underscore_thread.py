# expect: S013 line 2
import _thread
