#!/usr/bin/env python3
"""A fake configfs-tsm kernel: for every report entry under ROOT whose inblob was written and
that has no outblob yet, make a simulated SNP report over the inblob (cctrust sim report), then
publish auxblob, provider, outblob and finally bump generation. Runs until killed or 60 s.
A hostile kernel when the file ROOT.mode names one of: "short" (outblob cut to 1000 bytes),
"long" (16 bytes appended), "foreign" (the report is over another REPORT_DATA); "tdx" and
"tdx-foreign": a TDX kernel (provider tdx_guest, the outblob a simulated TD quote)."""
import os, subprocess, sys, time

cct, sim, root = sys.argv[1], sys.argv[2], sys.argv[3]
end = time.time() + 60
while time.time() < end:
    for e in os.listdir(root):
        d = os.path.join(root, e)
        ib = os.path.join(d, "inblob")
        if not os.path.isdir(d) or not os.path.exists(ib) or os.path.exists(os.path.join(d, "outblob")):
            continue
        data = open(ib, "rb").read()
        if len(data) != 64:
            continue
        mode = open(root + ".mode").read().strip() if os.path.exists(root + ".mode") else ""
        if mode in ("foreign", "tdx-foreign"):
            data = bytes([data[0] ^ 0xff]) + data[1:]
        ob = os.path.join(d, "outblob.tmp")
        if mode.startswith("tdx"):
            tr = os.path.join(d, "tdreport.tmp")
            subprocess.run([cct, "sim", "td-report", sim, "--report-data", data.hex(), "-o", tr],
                           check=True)
            subprocess.run([cct, "sim", "td-quote", sim, "--td-report", tr, "-o", ob], check=True)
        else:
            subprocess.run([cct, "sim", "report", sim, "--report-data", data.hex(), "-o", ob,
                            os.path.join(d, "auxblob")], check=True)
        rep = open(ob, "rb").read()
        if mode == "short":
            open(ob, "wb").write(rep[:1000])
        elif mode == "long":
            open(ob, "wb").write(rep + bytes(16))
        open(os.path.join(d, "provider"), "w").write("tdx_guest\n" if mode.startswith("tdx") else "sev_guest\n")
        os.rename(os.path.join(d, "outblob.tmp"), os.path.join(d, "outblob"))
        g = os.path.join(d, "generation")
        n = int(open(g).read()) if os.path.exists(g) else 0
        open(g + ".tmp", "w").write("%d\n" % (n + 1))
        os.rename(g + ".tmp", g)
    time.sleep(0.01)
