# expect: S001 line 2
import pydoc

pydoc.pipepager('x', 'sh')
