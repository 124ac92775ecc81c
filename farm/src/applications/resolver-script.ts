// The Python the resolver container runs with each target CPython (resolve-closure.ts): the target
// evaluates markers and requires-python itself, with the packaging library its own pip carries.

/**
 * `python resolve.py JOB OUT`: JOB holds either `requirements` (+ `constraints`) files for pip's
 * resolver, or a `lock` whose packages' markers are evaluated. OUT gets the closure: each
 * distribution with the file pip chose and the distributions that require it (the "why"), or the
 * lock's selected packages, or `error` with pip's own words.
 */
export const RESOLVE_PY = `import json, subprocess, sys, tempfile
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.utils import canonicalize_name

job = json.load(open(sys.argv[1]))
out = sys.argv[2]
target = "%d.%d" % sys.version_info[:2]

def evaluate(marker, extras=("",)):
    if not marker:
        return True
    return any(Marker(marker).evaluate({"extra": extra}) for extra in extras)

def edges(installed):
    # Which installed distribution requires which, under this Python, with the extras asked of each.
    extras = {name: set([""] + item.get("requested_extras", [])) for name, item in installed.items()}
    found = {}
    for _ in range(3):
        for name, item in installed.items():
            for text in item["metadata"].get("requires_dist") or []:
                req = Requirement(text)
                child = canonicalize_name(req.name)
                if child in installed and evaluate(str(req.marker) if req.marker else None, extras[name]):
                    found.setdefault(child, {})[name] = text
                    extras[child] |= set(req.extras)
    return found

def resolve():
    report = tempfile.mktemp(suffix=".json")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-input",
           "--disable-pip-version-check", "--progress-bar", "off", "--report", report, "-r", job["requirements"]]
    if job.get("constraints"):
        cmd += ["-c", job["constraints"]]
    # pip explains a conflict at its info level: both streams, in order, into the log and the answer.
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        return {"python": target, "error": done.stdout[-6000:]}
    items = json.load(open(report))["install"]
    installed = {canonicalize_name(i["metadata"]["name"]): i for i in items}
    parents = edges(installed)
    dists = []
    for name, item in installed.items():
        info = item.get("download_info") or {}
        meta = item["metadata"]
        dists.append({
            "name": meta["name"], "version": meta["version"], "requested": bool(item.get("requested")),
            "filename": info.get("url", "").rsplit("/", 1)[-1].split("#")[0],
            "sha256": ((info.get("archive_info") or {}).get("hashes") or {}).get("sha256"),
            "requiresPython": meta.get("requires_python"),
            "requiredBy": [{"name": installed[p]["metadata"]["name"], "version": installed[p]["metadata"]["version"], "requirement": t}
                           for p, t in sorted(parents.get(name, {}).items())],
        })
    return {"python": target, "dists": dists}

def select_locked():
    lock = job["lock"]
    version = "%d.%d.%d" % sys.version_info[:3]
    if lock.get("requiresPython") and version not in SpecifierSet(lock["requiresPython"]):
        return {"python": target, "admitted": False, "why": "its requires-python is " + lock["requiresPython"]}
    envs = lock.get("environments")
    if envs and not any(evaluate(e) for e in envs):
        return {"python": target, "admitted": False, "why": "none of its environments matches: " + " | ".join(envs)}
    selected = [i for i, p in enumerate(lock["packages"])
                if evaluate(p.get("marker")) and (not p.get("requiresPython") or version in SpecifierSet(p["requiresPython"]))]
    return {"python": target, "admitted": True, "selected": selected}

json.dump(select_locked() if "lock" in job else resolve(), open(out, "w"))
`;
