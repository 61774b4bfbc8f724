#!/usr/bin/env python3
# Used by start-jetty-dist.sh and start-launcher.sh (run from the repository root): starts the
# command, times its first /info answer on 127.0.0.1:35000 and reads its CPU then from /proc, does
# one /sub + /push round trip on port 35100, stops it with SIGTERM. Ports 35000 and 35100-35199.
# usage: starttime.py LOG -- cmd...   : seconds to first /info answer on 127.0.0.1:35000, server CPU then; a sub/push round trip; stop
import os, sys, time, signal, subprocess, urllib.request, threading, http.client
log = sys.argv[1]; cmd = sys.argv[3:]
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
import socket
def ports_free():
    for port in [35000] + list(range(35100, 35200)):
        so = socket.socket(); so.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            so.bind(("0.0.0.0", port))
        except OSError:
            return False
        finally:
            so.close()
    return True
for attempt in range(5):
    w0 = time.time()
    while not ports_free() and time.time() - w0 < 90:
        time.sleep(1)
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True, cwd=os.getcwd())
    ans = None
    while time.time() - t0 < 90 and p.poll() is None:
        try:
            urllib.request.urlopen("http://127.0.0.1:35000/info", timeout=1).read(); ans = time.time() - t0; break
        except (OSError, http.client.HTTPException):
            time.sleep(0.02)
    if ans is not None:
        break
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    print("retry (bind failure?)", file=sys.stderr); time.sleep(2)
c = cpu(p.pid)
rss = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1]
res = {}
def sub():
    res["sub"] = urllib.request.urlopen("http://127.0.0.1:35100/sub?cname=t1&seq=1", timeout=10).read()
th = threading.Thread(target=sub); th.start(); time.sleep(0.3)
urllib.request.urlopen("http://127.0.0.1:35000/push?cname=t1&content=hi", timeout=5).read(); th.join(10)
t1 = time.time()
os.killpg(p.pid, signal.SIGTERM)
p.wait(180)
print(f"first_answer_s={ans:.2f} cpu_s_at_answer={c:.2f} rss_kb={rss} roundtrip={'hi' in res.get('sub', b'').decode()} stop_s={time.time()-t1:.1f}", flush=True)
