#!/usr/bin/env python3
"""A fake configfs-tsm kernel: for every report entry under ROOT whose inblob was written and
that has no outblob yet, make a simulated SNP report over the inblob (cctrust sim report), then
publish auxblob, provider, outblob and finally bump generation. Runs until killed or 60 s."""
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
        subprocess.run([cct, "sim", "report", sim, "--report-data", data.hex(), "-o",
                        os.path.join(d, "outblob.tmp"), os.path.join(d, "auxblob")], check=True)
        open(os.path.join(d, "provider"), "w").write("sev_guest\n")
        os.rename(os.path.join(d, "outblob.tmp"), os.path.join(d, "outblob"))
        g = os.path.join(d, "generation")
        n = int(open(g).read()) if os.path.exists(g) else 0
        open(g + ".tmp", "w").write("%d\n" % (n + 1))
        os.rename(g + ".tmp", g)
    time.sleep(0.01)
