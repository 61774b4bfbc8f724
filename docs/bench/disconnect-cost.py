import socket, json, time, urllib.request, sys
ADMIN="http://127.0.0.1:9300"
def info():
    return json.loads(urllib.request.urlopen(ADMIN+"/info").read())
N=int(sys.argv[1]); WATCH=sys.argv[2]=="true"; ports=[9310,9311,9312,9313]
for rnd in range(5):
    i0=info(); c0=i0["process_cpu_ns"]; d0=i0["disconnected"]
    socks=[]
    t=time.time()
    for i in range(N):
        s=socket.create_connection(("127.0.0.1",ports[i%4]))
        s.sendall(b"GET /sub?cname=dc%d&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        socks.append(s)
    while info()["held_poll"] < N: time.sleep(0.2)
    i1=info(); c1=i1["process_cpu_ns"]
    for s in socks: s.close()
    if not WATCH:
        print("round %d: %d subscribes %.1f us CPU each (incl. connect/accept/parse)" % (rnd, N, (c1-c0)/N/1000)); time.sleep(3); continue
    while True:
        i2=info()
        if i2["disconnected"]-d0 >= N and i2["held_poll"]==0: break
        time.sleep(0.2)
    c2=i2["process_cpu_ns"]
    print("round %d: %d subscribes %.1f us CPU each (incl. connect/accept/parse); %d disconnects %.1f us CPU each; fds now %d" % (rnd, N, (c1-c0)/N/1000, N, (c2-c1)/N/1000, i2["open_fds"]))
    time.sleep(3)
