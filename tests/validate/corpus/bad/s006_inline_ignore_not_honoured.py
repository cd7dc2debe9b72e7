# expect: S006 line 3
def call(obj, name):
    return getattr(obj, name)  # cdk: ignore[S006]
