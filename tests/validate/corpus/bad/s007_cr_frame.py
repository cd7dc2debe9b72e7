# expect: S007 line 7
async def job():
    return 1


coro = job()
frame = coro.cr_frame
