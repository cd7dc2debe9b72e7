# expect: S015 line 4
import jsonschema

jsonschema.RefResolver('http://evil.example', {})
