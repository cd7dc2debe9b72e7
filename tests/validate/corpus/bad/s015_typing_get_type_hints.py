# expect: S015 line 4
import typing

typing.get_type_hints(object)
