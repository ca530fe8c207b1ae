"""Who is not a person: generic accounts, folder names, placeholders, and the test of a
user name (shared by the personal-data detectors of :mod:`.leakage`)."""

from __future__ import annotations

import re

# --- what is not a person ----------------------------------------------------------------------

#: Accounts that belong to an operating system, a cloud image, a CI service or a container image,
#: and the names of profile folders Windows and macOS create for everybody.
GENERIC_ACCOUNTS = frozenset(
    """
    root admin admins administrator administrators adm user users guest guests default defaultuser0
    default-user defaultuser all-users allusers public shared everyone owner
    ubuntu debian centos fedora alpine arch archlinux kali parrot rocky almalinux opensuse suse rhel
    amzn amazon ec2-user ec2user azureuser azure-user cloud-user clouduser opc core bitnami vagrant pi
    raspberry runner runneradmin vssadministrator containeradministrator containeruser
    wdagutilityaccount defaultapppool iusr appveyor jenkins hudson gitlab-runner gitlab-ci gitlab
    circleci travis buildkite buildkite-agent buildbot bamboo teamcity drone concourse semaphore
    codebuild cloudbuild vsts azdo agent builder build buildagent buildd ci docker dockremap podman
    vscode codespace codespaces gitpod coder jovyan rstudio sagemaker-user studio-lab-user
    cloudshell-user cloudshell ssm-user sbx_user1051 colab kaggle databricks www-data www wwwrun
    http httpd apache apache2 nginx caddy nobody nogroup daemon bin sys sync games man lp mail news
    uucp proxy backup backups list irc gnats syslog messagebus sshd postgres postgresql pgsql mysql
    mariadb redis mongodb mongo oracle elasticsearch elastic kibana logstash grafana prometheus
    rabbitmq kafka zookeeper hadoop hdfs yarn mapred hive spark airflow superset jupyter notebook
    anaconda conda miniconda git svn hg mercurial node nodejs npm app apps appuser application
    service svc deploy deployer deployment ansible puppet chef salt terraform ops devops sysadmin
    operator system localsystem localservice networkservice local test tester testuser tests testing
    demo demouser dev developer devel devuser sandbox steam student students staff faculty
    linuxbrew homebrew lost+found home usuario benutzer utilisateur ieuser parallels osboxes vmuser
    unknown anonymous anon ftp ftpuser sftp gituser web webadmin webmaster site sites logfiles
    aistudio kesci featurize hduser cloudera maria_dev raj_ops training tomcat jboss weblogic wildfly
    odoo frappe mastodon minecraft alarm chronos nvidia jetson orangepi odroid linaro dietpi osmc
    xilinx mobile distiller apple mac pc hp dell lenovo asus acer windows win10 win11 gebruiker utente
    administrateur administrador gast anvandare användare пользователь 用户 defaultaccount wsiaccount
    default.migrated localadmin vboxuser live liveuser mint manjaro deepin user1 runner1
    django flask rails wordpress wp drupal joomla magento nextcloud owncloud gitea redmine sonar sonarqube
    nexus artifactory zabbix nagios solr myapp webapp api backend frontend server services worker mw
    cpython python python2 python3 pypy distutils setuptools pip dask numpy scipy pandas pytorch torch tensorflow
    """.split()
)

#: Folder names that sit where a user name could, but name no one.
GENERIC_DIRS = frozenset(
    """
    bin lib lib64 etc share src include data tmp temp cache config conf logs log docs doc test tests
    build dist out output target app apps www public static assets media uploads files backup
    backups workspace workspaces projects project repo repos code work scripts tools opt var run mnt
    srv usr sbin common global system default shared local group groups lab labs team teams pub
    archive archives install installs software packages pkg pkgs env envs venv venvs images jobs
    runs results models datasets checkpoints experiments users user home homes scratch spool
    containers volumes snapshots .snapshot .snapshots dir dirs directory folder folders path paths
    copy first second third last old new original latest current previous next final draft
    """.split()
)

#: Folders that group home folders (``/home/students/alice``): the next component is the user.
HOME_GROUPS = frozenset(
    "students student staff users people faculty grad grads gradstudents ugrad ugrads undergrad "
    "undergrads phd postdoc postdocs researchers research members employees visitors guests "
    "alumni interns contractors accounts homes".split()
)

#: Second components that show a home folder (``/users/bob/Documents``).
HOME_SIGNATURE = frozenset(
    """
    desktop documents downloads pictures music videos movies library appdata onedrive dropbox
    google-drive icloud icloud-drive applications sites anaconda3 miniconda3 miniforge3 mambaforge
    micromamba venv .venv envs go src code projects repos git github gitlab workspace work dev
    development source sources notebooks jupyter bin lib local data tmp downloads-tmp ntuser.dat
    """.split()
)

#: Words of web routes (``/users/login``, ``/home/dashboard``), which are not user names.
ROUTE_WORDS = frozenset(
    """
    login logout signin signout signup register registration profile profiles settings preferences
    index create edit delete destroy update details detail list search new show view add remove
    manage dashboard about contact privacy terms error errors welcome main feed overview landing
    explore page pages tab tabs account accounts current self all info status stats roles role
    permissions avatar avatars password passwords reset verify confirm activate invite invitations
    followers following repos orgs events notifications messages inbox help faq docs api auth oauth
    callback admin id get post put patch byid getall getbyid lookup find query count export import
    upload download bulk batch sessions session token tokens keys groups teams members
    subscriptions subscription home index.html index.php default.aspx blog news shop cart checkout
    products product orders order posts articles article gallery portfolio careers feeds friends chat
    """.split()
)

_PLACEHOLDER_WORDS = frozenset(
    """
    user username usr uname userid userhome login loginname accountname account name names yourname
    yourusername youruser yourlogin yourid yourhandle youraccount yourhome your you yours me myname
    myusername myuser mylogin myaccount myhome mine someone somebody someuser anyuser anyone
    person somename foo bar baz qux quux foobar example exampleuser sample sampleuser dummy
    dummyuser fake fakeuser placeholder changeme replaceme xyz firstname lastname firstlast
    firstnamelastname flast fname lname yourfirstname yourlastname yournamehere nameofuser
    currentuser whoami username1 username2 home myself yourself ourselves abc abcd abcde xyz qwerty asdf
    someperson someoneelse someone_else otheruser anotheruser
    to the my our their his her its this that some any path where somewhere """.split()  # /home/to/my/stuff
)
_PLACEHOLDER_RE = re.compile(
    r"^(?:x+|y+|z+|\.+|_+|-+|(?:your|my|some|any|the|a|current|local|default|example|sample|test|new)"
    r"(?:user|username|name|login|account|id|handle|home|dir)s?\d*|user[a-z]?\d*|users\d*|test\d*)$"
)
#: Characters that turn a path component into a template, a variable or a glob.
_TEMPLATE_CHARS = frozenset("{}<>$%*?[]()@!#^~`=&|+;,'\"\\")


def _norm(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name.lower())


def is_placeholder(name: str) -> bool:
    """Whether a user-name slot holds a template or a stand-in rather than a name.

    >>> [is_placeholder(n) for n in ("${USER}", "<username>", "your_username", "USERNAME", "alice")]
    [True, True, True, True, False]
    """
    if not name or any(c in _TEMPLATE_CHARS for c in name):
        return True
    low = name.lower()
    norm = _norm(name)
    if (
        not norm
        or norm in _PLACEHOLDER_WORDS
        or _PLACEHOLDER_RE.match(norm)
        or _PLACEHOLDER_RE.match(low)
    ):
        return True
    # Upper-case slots such as YOUR_USER, MY_NAME, USER_NAME, LOGIN_ID are template variables.
    if (
        name.isupper()
        and len(name) >= 3
        and re.search(r"USER|NAME|LOGIN|ACCOUNT|YOUR|^MY|HOME", name)
    ):
        return True
    return False


#: Folder names that are disks, mounts or numbered scratch areas (/home/data1, /home/ssd).
_GENERIC_DIR_RE = re.compile(
    r"^(?:data|disk|ssd|hdd|nvme|vol|volume|storage|raid|mnt|store|backup|tmp|temp|scratch|work|share|nas|"
    r"demo|test|dev|prod|stage|staging|proj|project|group|lab)[-_]?\d*$",
    re.IGNORECASE,
)


def is_generic_account(name: str) -> bool:
    """Whether a name belongs to a system, cloud, CI or container account (not a person).

    >>> [is_generic_account(n) for n in ("runner", "ec2-user", "Default User", "svc-backup", "alice")]
    [True, True, True, True, False]
    """
    low = name.lower()
    if (
        low in GENERIC_ACCOUNTS
        or low.replace(" ", "-") in GENERIC_ACCOUNTS
        or low.replace(" ", "") in GENERIC_ACCOUNTS
    ):
        return True
    # Service and robot accounts by naming convention.
    if re.match(r"^(?:svc|srv|sa|svc-acct|service)[-_.]", low) or re.search(
        r"[-_.](?:svc|bot|runner|agent|service|user)$", low
    ):
        return True
    if low.endswith("[bot]") or low.endswith("-bot") or low.endswith("_bot"):
        return True
    return False


def looks_like_username(name: str, *, numeric_ok: bool = False) -> bool:
    """A plausible account name: a letter somewhere, a sane length, no template characters.

    ``numeric_ok``: a Windows profile folder may be all digits (accounts named after a phone
    number are common), so there three or more digits also count.
    """
    if not 2 <= len(name) <= 64:
        return False
    if not any(c.isalpha() for c in name) and not (
        numeric_ok and name.isdigit() and len(name) >= 3
    ):
        return False
    if re.fullmatch(r"u\d+_a\d+|app_\d+|u\d+_i\d+", name.lower()):
        return False  # Android's generated per-app accounts (u0_a123)
    if re.fullmatch(r"(.)\1+", name.lower()) or re.fullmatch(r"defaultuser\d+", name.lower()):
        return False  # aaa, zzzz; Windows' defaultuser100000 set-up profile
    return not is_placeholder(name) and not is_generic_account(name)
