# expect: S017 line 4
class Session:
    def send(self, request, **kw):
        return super().send(request, **kw)
