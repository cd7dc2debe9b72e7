# expect: S003 line 2
mod = __import__('o' + 's')
