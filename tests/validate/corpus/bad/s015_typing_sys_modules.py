# expect: S015 line 4
import typing

os = typing.sys.modules['os']
