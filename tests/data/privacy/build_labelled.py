"""Build ``labelled.jsonl``: the labelled set for user names in paths (privacy auditor, CA101).

Every snippet here was written for this project. A positive template marks each place where a
person's account name goes with ``{u}`` (or ``{v}`` for a second person); the builder fills in
names from ``NAMES`` (and ``WINDOWS_NAMES`` for ``{w}``: Windows profile folders, which may hold
capitals, spaces and accents), shifts the snippet down by a few language-appropriate filler
lines, and records the expected ``username`` and 1-based ``line`` of every slot. Negative
templates are paths that name nobody: shared and CI accounts, placeholders, home-folder
variables, system paths, web routes, regular expressions, documentation examples.

Run ``python tests/data/privacy/build_labelled.py`` to rewrite the JSONL (deterministic).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

NAMES = [
    "mkowalski", "priya.raman", "jsmith", "anguyen", "chen.wei", "oleksandr", "jgarcia", "tokafor", "lmartin",
    "syamamoto", "rhernandez", "kpatel", "dmueller", "elena.popescu", "fbianchi", "ahassan", "sofia", "lucas.moreau",
    "mia.jensen", "btanaka", "olga", "ivan.petrov", "wkim", "nadia_b", "pdubois", "hcohen", "amelie", "rsingh2",
    "s1834521", "ab12cd", "joao.silva", "mrossi", "gstewart", "tlee", "ynakamura", "kmensah", "aisha.khan", "dvolkov",
    "marta", "hwang.j", "emre.yilmaz", "fatima", "lnowak", "ccarter", "bogdan", "vkumar", "zoe.adams", "arturo",
    "ingrid.h", "tomasz", "jlopez", "sarah.connolly", "dpark", "nikhil", "rachel", "m_weber", "kostas", "qzhang",
]
WINDOWS_NAMES = [
    "John Smith", "Maria", "JSmith", "Jürgen", "Anna Kowalska", "DavidP", "lena.fischer", "Chris", "NGUYEN_T",
    "Ana María", "Olusegun", "kwame.asante", "Rafael Souza", "ThomasB", "mchen", "Emily Clarke", "Pedro", "SKim",
]

# Lines that may precede a snippet, per language: the snippet then starts lower in the file.
FILLER = {
    "python": ["import os", "import sys", "import json", "from pathlib import Path", "import logging", "", "# TODO: tidy up"],
    "java": ["import java.io.File;", "import java.util.List;", "", "// loader", "import java.nio.file.Paths;"],
    "csharp": ["using System;", "using System.IO;", "", "// settings", "using System.Text;"],
    "javascript": ["'use strict';", "const fs = require('fs');", "", "// config", "const path = require('path');"],
    "typescript": ["import * as fs from 'fs';", "", "// paths", "import { join } from 'path';"],
    "go": ["package main", "", "import \"os\"", "// main entry"],
    "rust": ["use std::fs;", "use std::path::Path;", "", "// io helpers"],
    "c": ["#include <stdio.h>", "#include <stdlib.h>", "", "/* loader */"],
    "cpp": ["#include <fstream>", "#include <string>", "", "// io"],
    "shell": ["#!/usr/bin/env bash", "set -euo pipefail", "", "# nightly job"],
    "powershell": ["$ErrorActionPreference = 'Stop'", "", "# backup script"],
    "batch": ["@echo off", "setlocal", "REM build"],
    "r": ["library(dplyr)", "library(readr)", "", "# analysis"],
    "ruby": ["require 'json'", "require 'fileutils'", "", "# tasks"],
    "php": ["<?php", "declare(strict_types=1);", "", "// config"],
    "perl": ["use strict;", "use warnings;", ""],
    "makefile": ["# build rules", "SHELL := /bin/bash", ""],
    "dockerfile": ["FROM python:3.11-slim", "# image", ""],
    "yaml": ["# generated", "version: 1", ""],
    "ini": ["; settings", "[general]", "debug = false"],
    "toml": ["# settings", "[tool.app]", "debug = false"],
    "sql": ["-- load script", ""],
    "lua": ["-- config", "local M = {}"],
    "kotlin": ["import java.io.File", "", "// loader"],
    "swift": ["import Foundation", "", "// paths"],
    "text": ["", "Notes:"],
    "markdown": ["# Setup", ""],
}

POSITIVE: list[tuple[str, str]] = [
    # --- Python ------------------------------------------------------------------------------
    ("python", "df = pd.read_csv('/home/{u}/data/sales_2021.csv')\nprint(df.head())\n"),
    ("python", "DATA_DIR = \"/home/{u}/projects/churn/data\"\nMODEL_DIR = os.path.join(DATA_DIR, 'models')\n"),
    ("python", "#!/home/{u}/venv/bin/python3\n\"\"\"Nightly export.\"\"\"\nimport csv\n"),
    ("python", "sys.path.append('/Users/{u}/code/utils')\nfrom helpers import slugify\n"),
    ("python", "handler = logging.FileHandler(\"/home/{u}/logs/app.log\")\nhandler.setLevel(logging.INFO)\nlogger.addHandler(handler)\n"),
    ("python", "parser.add_argument(\"--out\", default=\"/scratch/{u}/runs/exp1\")\nparser.add_argument(\"--seed\", type=int, default=0)\n"),
    ("python", "book = load_workbook(r\"C:\\Users\\{w}\\Documents\\budget.xlsx\")\nsheet = book.active\n"),
    ("python", "path = \"C:\\\\Users\\\\{w}\\\\Desktop\\\\report.docx\"\ndoc = Document(path)\n"),
    ("python", "model = torch.load('/scratch/{u}/checkpoints/best.pt', map_location='cpu')\nmodel.eval()\n"),
    ("python", "conn = sqlite3.connect('/Users/{u}/Library/Application Support/notes/notes.db')\ncur = conn.cursor()\n"),
    ("python", "with open(\"/home/{u}/.aws/credentials\") as fh:\n    creds = fh.read()\n"),
    ("python", "subprocess.run([\"/home/{u}/bin/convert.sh\", src, dst], check=True)\n"),
    ("python", "for name in os.listdir('/home/{u}/Downloads'):\n    if name.endswith('.pdf'):\n        print(name)\n"),
    ("python", "ROOT = Path(\"/Users/{u}/Documents/thesis\")\nFIGS = ROOT / \"figures\"\nFIGS.mkdir(exist_ok=True)\n"),
    ("python", "def test_loads_config():\n    cfg = load(\"/home/{u}/work/app/config.yaml\")\n    assert cfg[\"debug\"] is False\n"),
    ("python", "# copied from /home/{u}/scratch/old_pipeline.py\ndef normalise(x):\n    return (x - x.mean()) / x.std()\n"),
    ("python", "os.chdir(\"/nfs/home/{u}/experiments\")\nresults = run_all()\n"),
    ("python", "CACHE = os.path.join(\"/home\", \"{u}\", \".cache\", \"hf\")\n"),
    ("python", "out_dir = Path(\"/home\") / \"{u}\" / \"outputs\"\n"),
    ("python", "img = Image.open(f\"/Users/{u}/Pictures/{{name}}.png\")\nimg.thumbnail((128, 128))\n"),
    ("python", "WEIGHTS = '/u/{u}/models/resnet50.pth'\n"),
    ("python", "nltk.data.path.append('/afs/cs.cmu.edu/user/{u}/nltk_data')\n"),
    ("python", "TRAIN = \"/work/02931/{u}/data/train.h5\"\nVALID = TRAIN.replace(\"train\", \"valid\")\n"),
    ("python", "spark.read.parquet(\"/global/homes/{i}/{u}/events.parquet\").show()\n"),
    ("python", "driver = webdriver.Chrome(executable_path=r'C:\\Users\\{w}\\Downloads\\chromedriver.exe')\n"),
    ("python", "ENV = {\n    \"PYTHONPATH\": \"/home/{u}/src\",\n    \"LANG\": \"C.UTF-8\",\n}\n"),
    ("python", "    except FileNotFoundError:\n        log.warning('missing /home/{u}/.netrc, falling back')\n        return None\n"),
    ("python", "%cd /home/{u}/notebooks\n!ls -la /home/{u}/notebooks/data\n"),
    ("python", "tokenizer = AutoTokenizer.from_pretrained(\"/home/{u}/hf/models/bert-base\")\n"),
    ("python", "shutil.copy(src, '/mnt/c/Users/{u}/Desktop/out.csv')\n"),
    ("python", "files = glob.glob('/home/{u}/data/*.json')\nfor f in files:\n    process(f)\n"),
    ("python", "LOG = \"/lustre/scratch/{u}/logs\"\n"),
    ("python", "cfg = yaml.safe_load(open('/Users/{u}/.config/tool/config.yml'))\n"),
    ("python", "    # see ~{u}/notes/design.md for the reasoning\n    return total\n"),
    ("python", "assert resolve(\"~/x\") == \"/home/{u}/x\"\n"),
    ("python", "EXPORT_PATH = \"D:/Users/{u}/exports\"\n"),
    ("python", "BACKUP = r\"\\\\fs01\\home$\\{u}\\backups\"\n"),
    ("python", "engine = create_engine('sqlite:////home/{u}/apps/site/db.sqlite3')\n"),
    ("python", "print(\"wrote\", \"/home/{u}/out.txt\")\nprint(\"also see /home/{v}/shared_notes.txt\")\n"),
    # --- Java / Kotlin --------------------------------------------------------------------------
    ("java", "File input = new File(\"C:\\\\Users\\\\{w}\\\\Desktop\\\\input.txt\");\nScanner sc = new Scanner(input);\n"),
    ("java", "System.setProperty(\"webdriver.chrome.driver\", \"C:\\\\Users\\\\{w}\\\\Downloads\\\\chromedriver.exe\");\nWebDriver driver = new ChromeDriver();\n"),
    ("java", "Path cfg = Paths.get(\"/home/{u}/app/config.properties\");\nProperties props = new Properties();\nprops.load(Files.newInputStream(cfg));\n"),
    ("java", "    private static final String OUT_DIR = \"/Users/{u}/IdeaProjects/shop/out\";\n"),
    ("java", "FileWriter fw = new FileWriter(\"/home/{u}/reports/\" + month + \".csv\");\n"),
    ("java", "    // TODO remove: debugging on /Users/{u}/tmp/dump.bin\n    dump(buffer);\n"),
    ("kotlin", "val dataFile = File(\"/Users/{u}/AndroidStudioProjects/App/data.json\")\nval text = dataFile.readText()\n"),
    # --- C# ------------------------------------------------------------------------------------
    ("csharp", "var path = @\"C:\\Users\\{w}\\source\\repos\\Inventory\\data.db\";\nusing var conn = new SqliteConnection($\"Data Source={{path}}\");\n"),
    ("csharp", "string log = \"C:\\\\Users\\\\{w}\\\\AppData\\\\Local\\\\Temp\\\\app.log\";\nFile.AppendAllText(log, message);\n"),
    ("csharp", "const string Conn = @\"Server=(localdb)\\mssqllocaldb;AttachDbFilename=C:\\Users\\{w}\\Documents\\shop.mdf\";\n"),
    ("csharp", "var img = Image.FromFile(\"C:/Users/{w}/Pictures/logo.png\");\n"),
    # --- JavaScript / TypeScript -------------------------------------------------------------------
    ("javascript", "const config = require('/Users/{u}/projects/api/config.json');\n"),
    ("javascript", "const key = fs.readFileSync('/home/{u}/.ssh/id_rsa', 'utf8');\n"),
    ("javascript", "module.exports = {\n  output: {\n    path: '/home/{u}/www/site/dist',\n    filename: 'bundle.js',\n  },\n};\n"),
    ("javascript", "const dir = path.join('/Users', '{u}', 'Downloads');\nfs.readdirSync(dir).forEach(f => console.log(f));\n"),
    ("javascript", "  rootDir: 'C:\\\\Users\\\\{w}\\\\dev\\\\web-app',\n  testEnvironment: 'node',\n"),
    ("typescript", "const DB_FILE: string = \"/home/{u}/data/app.sqlite\";\nexport const db = new Database(DB_FILE);\n"),
    ("typescript", "export const uploads = \"/Users/{u}/Sites/portal/uploads\";\n"),
    # --- Go / Rust / C / C++ ---------------------------------------------------------------------
    ("go", "f, err := os.Open(\"/home/{u}/go/src/github.com/acme/tool/testdata/in.txt\")\nif err != nil {\n\tlog.Fatal(err)\n}\n"),
    ("go", "const cacheDir = \"/Users/{u}/Library/Caches/tool\"\n"),
    ("rust", "let registry = Path::new(\"/home/{u}/.cargo/registry\");\nlet entries = fs::read_dir(registry)?;\n"),
    ("c", "FILE *fp = fopen(\"C:\\\\Users\\\\{w}\\\\Documents\\\\scores.txt\", \"r\");\nif (!fp) return 1;\n"),
    ("c", "#include \"/home/{u}/include/matrix.h\"\n"),
    ("cpp", "std::ifstream in(\"/home/{u}/data/mesh.obj\");\nif (!in) throw std::runtime_error(\"open\");\n"),
    # --- shell and friends -------------------------------------------------------------------------
    ("shell", "cd /home/{u}/projects/api\ngit pull --rebase\nmake test\n"),
    ("shell", "export PATH=\"/home/{u}/.local/bin:$PATH\"\n"),
    ("shell", "source /Users/{u}/.bash_profile\n"),
    ("shell", "rsync -avz /home/{u}/photos/ backup:/srv/photos/\n"),
    ("shell", "0 3 * * * /home/{u}/bin/backup.sh >> /home/{u}/logs/backup.log 2>&1\n"),
    ("shell", "ssh -i /home/{u}/.ssh/id_ed25519 deploy@203.0.113.20 'systemctl restart app'\n"),
    ("shell", "source /home/{u}/miniconda3/bin/activate torch\npython train.py\n"),
    ("shell", "cp build/app.exe /mnt/c/Users/{u}/Desktop/\n"),
    ("shell", "cd \"/c/Users/{w}/Documents/repo\" && git status\n"),
    ("shell", "ls /cygdrive/c/Users/{u}/Downloads\n"),
    ("shell", "#SBATCH --output=/scratch/{u}/logs/%j.out\n#SBATCH --time=02:00:00\nsrun python train.py\n"),
    ("shell", "tar czf /tmp/home.tgz -C /export/home/{u} .\n"),
    ("shell", "cp ~{u}/templates/report.tex .\n"),
    ("shell", "WORK=/gpfs/scratch/{u}/run42\nmkdir -p \"$WORK\"\n"),
    ("shell", "cat /var/spool/cron/crontabs/{u}\n"),
    ("shell", "podman run -v /var/home/{u}/src:/src:Z fedora:39 make\n"),
    ("shell", "export GOPATH=/usr/home/{u}/go\n"),
    ("shell", "module load python/3.10\ncd /afs/cern.ch/user/{i}/{u}/analysis\n"),
    ("powershell", "Set-Location 'C:\\Users\\{w}\\Documents\\scripts'\nGet-ChildItem -Recurse\n"),
    ("powershell", "$log = \"C:\\Users\\{w}\\Desktop\\run.log\"\nAdd-Content -Path $log -Value \"done\"\n"),
    ("powershell", "Copy-Item -Path .\\out\\* -Destination \"\\\\fileserver\\users\\{u}\\backup\" -Recurse\n"),
    ("powershell", "Import-Module \"C:\\Documents and Settings\\{w}\\My Documents\\WindowsPowerShell\\Modules\\Tools\"\n"),
    ("batch", "copy \"C:\\Users\\{w}\\Documents\\report.xlsx\" D:\\archive\\\n"),
    ("batch", "set PYTHON=C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\n%PYTHON% build.py\n"),
    ("perl", "open(my $fh, '<', '/home/{u}/data/input.tsv') or die \"open: $!\";\n"),
    ("ruby", "CONFIG = YAML.load_file('/Users/{u}/.myapp/config.yml')\n"),
    ("php", "$upload_dir = '/home/{u}/public_html/uploads/';\n"),
    ("lua", "package.path = package.path .. ';/home/{u}/.luarocks/share/lua/5.3/?.lua'\n"),
    ("swift", "let url = URL(fileURLWithPath: \"/Users/{u}/Desktop/export.json\")\n"),
    ("sql", "COPY orders FROM '/home/{u}/exports/orders.csv' WITH (FORMAT csv, HEADER true);\n"),
    # --- R -------------------------------------------------------------------------------------------
    ("r", "setwd(\"C:/Users/{w}/Documents/analysis\")\ndata <- read.csv(\"survey.csv\")\n"),
    ("r", "df <- read_csv(\"/Users/{u}/Downloads/trial_results.csv\")\nsummary(df)\n"),
    ("r", "saveRDS(model, file = \"/home/{u}/models/glm_fit.rds\")\n"),
    # --- configuration and data files ----------------------------------------------------------------
    ("json", "{\n  \"python.defaultInterpreterPath\": \"/Users/{u}/.pyenv/versions/3.11.4/bin/python\",\n  \"editor.formatOnSave\": true\n}\n"),
    ("json", "{\n  \"version\": \"0.2.0\",\n  \"configurations\": [\n    {\n      \"name\": \"Run\",\n      \"program\": \"C:\\\\Users\\\\{w}\\\\projects\\\\bot\\\\main.py\"\n    }\n  ]\n}\n"),
    ("json", "{\n  \"name\": \"web\",\n  \"scripts\": {\n    \"deploy\": \"rsync -a dist/ /home/{u}/www/\"\n  }\n}\n"),
    ("json", "{\"dataDir\": \"/home/{u}/.local/share/app\", \"port\": 8080}\n"),
    ("yaml", "services:\n  db:\n    image: postgres:16\n    volumes:\n      - /home/{u}/pgdata:/var/lib/postgresql/data\n"),
    ("yaml", "name: torch\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.10\nprefix: /Users/{u}/miniconda3/envs/torch\n"),
    ("yaml", "spec:\n  volumes:\n    - name: data\n      hostPath:\n        path: /home/{u}/k8s/data\n"),
    ("yaml", "logging:\n  file: C:\\Users\\{w}\\AppData\\Roaming\\tool\\tool.log\n"),
    ("ini", "[paths]\ndata = /home/{u}/data\noutput = /home/{u}/output\n"),
    ("ini", "[core]\n\texcludesfile = /Users/{u}/.gitignore_global\n\teditor = vim\n"),
    ("ini", "[global]\nindex-url = https://pypi.org/simple\ncert = /home/{u}/certs/corp-ca.pem\n"),
    ("toml", "[tool.mypy]\ncache_dir = \"/Users/{u}/.cache/mypy\"\n"),
    ("dockerfile", "COPY /home/{u}/app/requirements.txt /app/\nRUN pip install -r /app/requirements.txt\n"),
    ("dockerfile", "ENV PATH=/home/{u}/.local/bin:$PATH\nWORKDIR /app\n"),
    ("makefile", "PREFIX ?= /home/{u}/.local\nCFLAGS += -I/home/{u}/include\nLDFLAGS += -L/Users/{v}/lib\n"),
    ("makefile", "install:\n\tcp build/tool /Users/{u}/bin/\n"),
    ("text", "Traceback (most recent call last):\n  File \"/home/{u}/proj/run.py\", line 12, in <module>\n    main()\nValueError: bad input\n"),
    ("markdown", "Run the script from `/home/{u}/tools/` and check `/home/{u}/tools/out`.\n"),
]

# Jupyter notebooks (JSON): paths in code cells, in outputs with ANSI colour codes, and Windows
# paths written twice escaped (once for Python, once for JSON).
NOTEBOOKS_POSITIVE = [
    '{{\n "cells": [\n  {{\n   "cell_type": "code",\n   "execution_count": 1,\n   "metadata": {{}},\n   "outputs": [],\n   "source": [\n    "import pandas as pd\\n",\n    "df = pd.read_csv(\'/home/{u}/data/train.csv\')"\n   ]\n  }}\n ],\n "metadata": {{}},\n "nbformat": 4,\n "nbformat_minor": 5\n}}\n',
    '{{\n "cells": [\n  {{\n   "cell_type": "code",\n   "execution_count": 3,\n   "metadata": {{}},\n   "outputs": [\n    {{\n     "ename": "KeyError",\n     "evalue": "\'price\'",\n     "output_type": "error",\n     "traceback": [\n      "\\u001b[0;31mKeyError\\u001b[0m  Traceback (most recent call last)",\n      "File \\u001b[0;32m/home/{u}/.local/lib/python3.10/site-packages/pandas/core/frame.py:3761\\u001b[0m, in \\u001b[0;36mDataFrame.__getitem__\\u001b[0;34m\\u001b[0m"\n     ]\n    }}\n   ],\n   "source": [\n    "df[\'price\']"\n   ]\n  }}\n ],\n "metadata": {{}},\n "nbformat": 4,\n "nbformat_minor": 5\n}}\n',
    '{{\n "cells": [\n  {{\n   "cell_type": "code",\n   "execution_count": null,\n   "metadata": {{}},\n   "outputs": [],\n   "source": [\n    "img = cv2.imread(\'C:\\\\\\\\Users\\\\\\\\{w}\\\\\\\\Pictures\\\\\\\\cat.jpg\')"\n   ]\n  }}\n ],\n "metadata": {{}},\n "nbformat": 4,\n "nbformat_minor": 5\n}}\n',
    '{{\n "cells": [\n  {{\n   "cell_type": "code",\n   "execution_count": 7,\n   "metadata": {{}},\n   "outputs": [\n    {{\n     "name": "stdout",\n     "output_type": "stream",\n     "text": [\n      "saved to /Users/{u}/Desktop/plot.png\\n"\n     ]\n    }}\n   ],\n   "source": [\n    "fig.savefig(out)"\n   ]\n  }}\n ],\n "metadata": {{\n  "kernelspec": {{"name": "python3"}}\n }},\n "nbformat": 4,\n "nbformat_minor": 5\n}}\n',
]

# Snippets with fixed names: numeric and non-Latin Windows profiles, names in two places.
FIXED_POSITIVE: list[tuple[str, str, list[tuple[str, int]]]] = [
    ("python", "import pandas as pd\ndf = pd.read_excel(r'C:\\Users\\86138\\Desktop\\sales.xlsx')\n", [("86138", 2)]),
    ("python", "doc = Document(r'C:\\Users\\王伟\\Documents\\report.docx')\n", [("王伟", 1)]),
    ("python", "MODEL = 'C:/Users/13912345678/Downloads/yolov5s.pt'\nnet = torch.hub.load('.', 'custom', MODEL, source='local')\n",
     [("13912345678", 1)]),
    ("shell", "export JAVA_HOME=/Users/kenji.sato/Library/Java/JavaVirtualMachines/jdk-17/Contents/Home\n",
     [("kenji.sato", 1)]),
    ("javascript", "// run with: node /home/li.na/scripts/seed.js\nconst db = connect(process.env.DB);\n", [("li.na", 1)]),
    ("yaml", "paths:\n  raw: /home/omar/data/raw\n  clean: /home/omar/data/clean\n  shared: /home/shared/team\n",
     [("omar", 2), ("omar", 3)]),
]

NEGATIVE: list[tuple[str, str]] = [
    # --- shared, service and CI accounts ---------------------------------------------------------
    ("python", "ROOT = '/home/runner/work/app/app'\n"),
    ("yaml", "steps:\n  - run: ls /home/runner/work/_temp\n  - run: cp out.zip /Users/runner/Desktop/\n"),
    ("shell", "scp app.tar ubuntu@203.0.113.5:/home/ubuntu/app.tar\nssh ubuntu@203.0.113.5 'tar xf /home/ubuntu/app.tar'\n"),
    ("shell", "sudo -u ec2-user bash -c 'cd /home/ec2-user/app && ./run.sh'\n"),
    ("dockerfile", "FROM node:20\nWORKDIR /home/node/app\nCOPY --chown=node:node . /home/node/app\nUSER node\n"),
    ("dockerfile", "FROM jupyter/scipy-notebook\nCOPY notebooks/ /home/jovyan/work/\n"),
    ("json", "{\n  \"remoteUser\": \"vscode\",\n  \"workspaceFolder\": \"/home/vscode/workspace\"\n}\n"),
    ("yaml", "image: gitpod/workspace-full\ntasks:\n  - init: cd /home/gitpod/.nvm && ls\n"),
    ("shell", "cd /home/vagrant/shared && make\n"),
    ("python", "PI_DIR = '/home/pi/robot/logs'\n"),
    ("shell", "cat /root/.ssh/authorized_keys\n"),
    ("shell", "eval \"$(/home/linuxbrew/.linuxbrew/bin/brew shellenv)\"\n"),
    ("shell", "cp report.pdf /Users/Shared/Reports/\n"),
    ("powershell", "Copy-Item report.pdf C:\\Users\\Public\\Documents\\\n"),
    ("batch", "xcopy /s C:\\Users\\Default\\AppData\\Local\\Template D:\\tpl\\\n"),
    ("powershell", "Get-ChildItem 'C:\\Users\\All Users\\Microsoft\\Windows\\Start Menu'\n"),
    ("powershell", "$cache = 'C:\\Users\\runneradmin\\AppData\\Local\\pip\\Cache'\n"),
    ("yaml", "variables:\n  NUGET_PACKAGES: C:\\Users\\VssAdministrator\\.nuget\\packages\n"),
    ("yaml", "build_script:\n  - cmd: dir C:\\Users\\appveyor\\AppData\\Local\n"),
    ("groovy", "sh 'cp target/*.jar /var/lib/jenkins/artifacts/'\nsh 'ls /home/jenkins/workspace/shop'\n"),
    ("yaml", "steps:\n  - checkout\n  - run: ls /home/circleci/project\n"),
    ("shell", "cd /home/travis/build/acme/tool\n"),
    ("yaml", "script:\n  - cd /home/gitlab-runner/builds/x/acme\n"),
    ("dockerfile", "RUN useradd -m app\nWORKDIR /home/app\nCOPY . /home/app/src\n"),
    ("shell", "sudo chown -R www-data:www-data /home/www-data/site\n"),
    ("shell", "pg_dump shop > /home/postgres/backups/shop.sql\n"),
    ("python", "os.makedirs('/home/user/app/cache', exist_ok=True)\n"),
    ("shell", "cd /home/admin/deploy\n"),
    ("dockerfile", "FROM ubuntu:22.04\nRUN mkdir -p /home/docker/.config\n"),
    ("yaml", "volumes:\n  - /home/codespace/.cache:/cache\n"),
    ("shell", "ls /Users/Guest/Desktop\n"),
    ("ini", "[runner]\nbuilds_dir = /home/gitlab-runner/builds\ncache_dir = /home/gitlab-runner/cache\n"),
    # --- placeholders and templates ---------------------------------------------------------------
    ("python", "CONFIG = '/home/<user>/.config/tool/config.toml'  # adjust\n"),
    ("python", "path = f\"/home/{user}/data/{name}.csv\"\n"),
    ("python", "path = \"/home/{}/data\".format(getpass.getuser())\n"),
    ("python", "home = \"/home/\" + username + \"/projects\"\n"),
    ("python", "home = '/home/%s/.ssh' % os.getlogin()\n"),
    ("shell", "mkdir -p /home/$USER/.local/bin\n"),
    ("shell", "cp file.txt /home/${USER}/backup/\n"),
    ("shell", "cd /home/$(whoami)/src\n"),
    ("shell", "ls /home/`whoami`/Downloads\n"),
    ("batch", "copy out.log %USERPROFILE%\\Desktop\\\ncopy out.log C:\\Users\\%USERNAME%\\Documents\\\n"),
    ("powershell", "$dest = \"C:\\Users\\$env:USERNAME\\Documents\\exports\"\n"),
    ("python", "# Put the key in /home/your_username/.ssh/id_rsa\n"),
    ("python", "DEFAULT = r\"C:\\Users\\<username>\\AppData\\Roaming\\tool\"\n"),
    ("markdown", "Clone into `/Users/yourname/code` and run `make`.\n"),
    ("text", "Example: /home/username/projects/demo\n"),
    ("text", "Replace USER in /home/USER/.bashrc with your login.\n"),
    ("yaml", "# path: /home/xxx/data\ndata_dir: ${HOME}/data\n"),
    ("text", "e.g. /home/me/notes or /Users/you/notes\n"),
    ("yaml", "home: \"/home/{{ ansible_user }}\"\ndest: \"/home/{{ item.name }}/.ssh/authorized_keys\"\n"),
    ("go", "dir := fmt.Sprintf(\"/home/%s/.config\", u.Username)\n"),
    ("csharp", "var dir = $\"C:\\\\Users\\\\{Environment.UserName}\\\\Documents\";\n"),
    ("java", "String dir = \"C:\\\\Users\\\\\" + System.getProperty(\"user.name\") + \"\\\\Desktop\";\n"),
    ("javascript", "const dir = `/Users/${os.userInfo().username}/Library/Logs`;\n"),
    ("shell", "for d in /home/*/; do du -sh \"$d\"; done\n"),
    ("shell", "grep -l ssh-rsa /home/*/.ssh/authorized_keys\n"),
    ("python", "users = os.listdir('/home')\n"),
    ("text", "Your files live in /home/<your-login>/ and /scratch/<your-login>/.\n"),
    ("text", "Logs are written to C:\\Users\\[user]\\AppData\\Local\\App\\logs.\n"),
    ("shell", "rsync -a ./ /home/USERNAME/backup/\n"),
    ("python", "PATH = '/home/.../data'\n"),
    # --- home folder variables ------------------------------------------------------------------------
    ("python", "cfg = os.path.expanduser('~/.config/app/config.toml')\n"),
    ("python", "cache = Path.home() / '.cache' / 'app'\n"),
    ("python", "home = os.environ['HOME']\nlogs = os.path.join(home, 'logs')\n"),
    ("shell", "cp .vimrc $HOME/.vimrc\ncp .bashrc ~/.bashrc\n"),
    ("batch", "copy app.ini %APPDATA%\\App\\app.ini\n"),
    ("powershell", "Set-Location $env:USERPROFILE\\Documents\n"),
    ("csharp", "var docs = Environment.GetFolderPath(Environment.SpecialFolder.MyDocuments);\n"),
    ("java", "String home = System.getProperty(\"user.home\");\nFile cfg = new File(home, \".app/config\");\n"),
    ("go", "home, _ := os.UserHomeDir()\ncfg := filepath.Join(home, \".config\", \"app\")\n"),
    ("rust", "let home = dirs::home_dir().expect(\"home\");\n"),
    ("javascript", "const cfg = path.join(os.homedir(), '.apprc');\n"),
    ("r", "cfg <- path.expand(\"~/.Rprofile\")\n"),
    ("typescript", "const dir: string = process.env.HOME + '/.cache';\n"),
    # --- system paths -----------------------------------------------------------------------------------
    ("shell", "install -m 755 tool /usr/local/bin/tool\n"),
    ("dockerfile", "COPY app /opt/app\nRUN chmod +x /opt/app/run.sh\n"),
    ("shell", "du -sh /var/lib/docker\n"),
    ("shell", "sudo cp site.conf /etc/nginx/sites-available/\n"),
    ("shell", "tail -f /var/log/syslog\n"),
    ("python", "with open('/proc/self/status') as fh:\n    status = fh.read()\n"),
    ("c", "int fd = open(\"/dev/null\", O_WRONLY);\n"),
    ("batch", "\"C:\\Program Files\\Git\\bin\\bash.exe\" build.sh\n"),
    ("powershell", "Get-Item C:\\Windows\\System32\\drivers\\etc\\hosts\n"),
    ("shell", "ls /Library/Frameworks/Python.framework/Versions\n"),
    ("shell", "open /Applications/Xcode.app\n"),
    ("shell", "export PATH=/opt/homebrew/bin:$PATH\n"),
    ("yaml", "volumes:\n  - /srv/www:/usr/share/nginx/html:ro\n"),
    ("python", "DATA = '/data/warehouse/events'\n"),
    ("shell", "mount /dev/sdb1 /mnt/data\n"),
    ("shell", "cp backup.tar /media/usb/\n"),
    ("ini", "[paths]\nlogs = /var/log/app\nstate = /var/lib/app\n"),
    ("python", "TMP = '/tmp/app-cache'\n"),
    ("shell", "ls /usr/share/fonts/truetype\n"),
    ("shell", "cd /home\nls -la\n"),
    ("dockerfile", "RUN mkdir -p /home && chmod 755 /home\n"),
    ("shell", "ls /scratch/tmp/jobs\n"),
    ("python", "SHARED = '/home/shared/datasets/imagenet'\n"),
    ("shell", "du -sh /home/projects/genomics\n"),
    # --- web routes and URLs -----------------------------------------------------------------------------
    ("javascript", "app.get('/api/users/:id', getUser);\napp.get('/users/me', currentUser);\n"),
    ("javascript", "fetch(`/api/users/${id}`).then(r => r.json());\n"),
    ("python", "@app.route('/users/<int:user_id>')\ndef show(user_id):\n    return render(user_id)\n"),
    ("javascript", "router.push('/home/dashboard');\n"),
    ("javascript", "<Route path=\"/home/settings\" element={<Settings />} />\n"),
    ("csharp", "return RedirectToAction(\"Index\", \"Home\");\n// GET /Home/Index\n[Route(\"/Users/Login\")]\n"),
    ("javascript", "window.location.href = '/users/123/edit';\n"),
    ("python", "resp = requests.get('https://api.example.com/users/123/orders')\n"),
    ("java", "@GetMapping(\"/users/{userId}/profile\")\npublic Profile profile(@PathVariable long userId) {\n"),
    ("python", "url = 'https://example.org/home/about'\n"),
    ("javascript", "const link = 'https://cdn.example.net/users/avatar/42.png';\n"),
    ("php", "header('Location: /users/login.php');\n"),
    ("ruby", "get '/users/:id', to: 'users#show'\n"),
    # --- regular expressions and code about paths -----------------------------------------------------------
    ("python", "HOME_RE = re.compile(r'^/home/[^/]+/')\n"),
    ("python", "WIN_RE = re.compile(r'C:\\\\Users\\\\[^\\\\]+\\\\')\n"),
    ("javascript", "const re = /\\/Users\\/[^/]+\\//;\n"),
    ("python", "if path.startswith('/home/'):\n    path = '~' + path[len('/home/'):]\n"),
    ("python", "parts = path.split('/')  # ['', 'home', user, ...]\n"),
    # --- relative paths and words that look like paths -------------------------------------------------------
    ("python", "fixture = 'tests/fixtures/users/alice.json'\n"),
    ("python", "TEMPLATES = './home/templates/base.html'\n"),
    ("python", "data = load('data/users/2023/export.csv')\n"),
    ("javascript", "import Home from './pages/home/Home';\n"),
    ("python", "HOME_PAGE = 'home/index.html'\n"),
    ("css", "@import '~bootstrap/scss/variables';\n"),
    ("javascript", "import styles from '~styles/main.css';\n"),
    ("python", "x = ~mask/2\n"),
    ("shell", "cd ~/projects && ls ~/Downloads\n"),
    ("python", "print(os.path.join(os.sep, 'home'))\n"),
    ("python", "report = r'\\\\fileserver\\reports\\2023\\q3.xlsx'\n"),
    ("powershell", "Copy-Item q3.xlsx \\\\nas01\\backup\\finance\\\n"),
    # --- hosted notebooks and cloud images ----------------------------------------------------------------
    ("python", "train = pd.read_csv('/home/aistudio/data/data1234/train.csv')\n"),
    ("python", "df = pd.read_csv('/home/mw/input/titanic/train.csv')\n"),
    ("python", "os.makedirs('/home/ma-user/work/output', exist_ok=True)\n"),
    ("python", "df = pd.read_csv('/kaggle/input/titanic/train.csv')\n"),
    ("python", "drive.mount('/content/drive')\npath = '/content/drive/MyDrive/data/x.csv'\n"),
    ("python", "img = cv2.imread('/Users/apple/Desktop/a.png')\n"),
    ("python", "out = r'C:\\Users\\HP\\Desktop\\out.csv'\n"),
    ("shell", "cd /home/opc && ls\n"),
    ("shell", "scp -i key.pem app.jar centos@198.51.100.4:/home/centos/\n"),
    ("python", "cfg = '/home/sagemaker-user/config.json'\n"),
]

NOTEBOOKS_NEGATIVE = [
    '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 2,\n   "metadata": {},\n   "outputs": [],\n   "source": [\n    "df = pd.read_csv(os.path.expanduser(\'~/data/train.csv\'))"\n   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
    '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 5,\n   "metadata": {},\n   "outputs": [\n    {\n     "name": "stderr",\n     "output_type": "stream",\n     "text": [\n      "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:88: UserWarning\\n"\n     ]\n    }\n   ],\n   "source": [\n    "model.cuda()"\n   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
    '{\n "cells": [\n  {\n   "cell_type": "code",\n   "execution_count": 1,\n   "metadata": {},\n   "outputs": [],\n   "source": [\n    "!ls /home/jovyan/work\\n",\n    "DATA = \'/content/drive/MyDrive/data\'"\n   ]\n  }\n ],\n "metadata": {},\n "nbformat": 4,\n "nbformat_minor": 5\n}\n',
]


def _fill(template: str, names: dict[str, str]) -> tuple[str, list[dict]]:
    """Substitute the slots and record (username, line) for each."""
    expected, seen = [], set()
    text = template
    for slot in ("{u}", "{v}", "{w}"):
        if slot not in text:
            continue
        name = names[slot]
        for number, line in enumerate(text.split("\n"), start=1):
            if slot in line and (name, number) not in seen:
                seen.add((name, number))
                expected.append({"username": name, "line": number})
        text = text.replace(slot, name)
    text = text.replace("{i}", names["{i}"]).replace("{{", "{").replace("}}", "}")
    expected.sort(key=lambda e: (e["line"], e["username"]))
    return text, expected


def _shift(language: str, text: str, expected: list[dict], rng: random.Random) -> tuple[str, list[dict]]:
    pool = FILLER.get(language)
    if not pool or language in ("json", "notebook"):
        return text, expected
    k = rng.randint(0, len(pool))
    lines = rng.sample(pool, k) if k <= len(pool) else pool
    if language in ("shell",) and lines and "#!" in "".join(lines) and not lines[0].startswith("#!"):
        lines = [l for l in lines if not l.startswith("#!")]
    if text.startswith("#!"):
        lines = []  # a shebang stays on line 1
    if language in ("php",) and lines and lines[0] != "<?php":
        lines = [l for l in lines if l != "<?php"]
    prefix = "".join(line + "\n" for line in lines)
    return prefix + text, [{"username": e["username"], "line": e["line"] + len(lines)} for e in expected]


def build() -> list[dict]:
    rng = random.Random(20240611)
    items: list[dict] = []
    for number, (language, template) in enumerate(POSITIVE):
        for copy in range(2):
            names = {
                "{u}": rng.choice(NAMES),
                "{w}": rng.choice(WINDOWS_NAMES),
                "{i}": "",
            }
            names["{v}"] = rng.choice([n for n in NAMES if n != names["{u}"]])
            names["{i}"] = names["{u}"][0]
            text, expected = _fill(template, names)
            text, expected = _shift(language, text, expected, rng)
            items.append({"id": f"pos-{number:03d}-{copy}", "language": language, "completion": text, "expected": expected})
    for number, (language, text, labels) in enumerate(FIXED_POSITIVE):
        expected = [{"username": u, "line": n} for u, n in labels]
        items.append({"id": f"fixed-{number:02d}", "language": language, "completion": text, "expected": expected})
    for number, template in enumerate(NOTEBOOKS_POSITIVE):
        for copy in range(2):
            names = {"{u}": rng.choice(NAMES), "{w}": rng.choice(WINDOWS_NAMES), "{v}": "", "{i}": ""}
            text, expected = _fill(template.replace("{{", "\x00").replace("}}", "\x01"), names)
            text = text.replace("\x00", "{").replace("\x01", "}")
            items.append({"id": f"nb-pos-{number:02d}-{copy}", "language": "notebook", "completion": text, "expected": expected})
    for number, (language, text) in enumerate(NEGATIVE):
        text, expected = _shift(language, text, [], rng)
        items.append({"id": f"neg-{number:03d}", "language": language, "completion": text, "expected": []})
    for number, text in enumerate(NOTEBOOKS_NEGATIVE):
        items.append({"id": f"nb-neg-{number:02d}", "language": "notebook", "completion": text, "expected": []})
    return items


def main() -> None:
    items = build()
    out = HERE / "labelled.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    pos = sum(1 for i in items if i["expected"])
    print(f"wrote {len(items)} items ({pos} with user names, {len(items) - pos} without) to {out}")


if __name__ == "__main__":
    main()
