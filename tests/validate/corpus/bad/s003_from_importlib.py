# expect: S003 line 2
from importlib import import_module
