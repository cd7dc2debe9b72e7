# expect: S003 line 2
import pkgutil
