// Sluice console: the app shell (top bar, navigation), the session, and routes.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { Session, getSession, logout, onSessionLost } from './api';
import { Link, Loading, navigate, useRoute } from './ui';
import { SignIn, ChangePassword } from './pages/signin';
import { Overview } from './pages/overview';
import { Instances } from './pages/instances';
import { InstanceDetail } from './pages/instance';
import { Users, UserDetail } from './pages/users';
import { MfaRequired, SecuritySettings } from './pages/mfa';
import { Groups, Roles } from './pages/groups';
import { Policies, PolicyEditor } from './pages/policies';
import { ResourceGroups } from './pages/resourcegroups';
import { Audit } from './pages/audit';

const NAV: { section: string; items: { to: string; label: string }[] }[] = [
  {
    section: 'ApsaraMQ for MQTT',
    items: [
      { to: '/', label: 'Overview' },
      { to: '/instances', label: 'Instances' },
    ],
  },
  {
    section: 'RAM',
    items: [
      { to: '/ram/users', label: 'Users' },
      { to: '/ram/groups', label: 'User groups' },
      { to: '/ram/roles', label: 'Roles' },
      { to: '/ram/policies', label: 'Policies' },
      { to: '/resource-groups', label: 'Resource groups' },
    ],
  },
  { section: 'ActionTrail', items: [{ to: '/audit', label: 'Audit log' }] },
];

function route(path: string, session: Session) {
  let m: RegExpExecArray | null;
  if (path === '/' || path === '/overview') return <Overview session={session} />;
  if (path === '/instances') return <Instances />;
  if ((m = /^\/instances\/([^/]+)(?:\/([a-z-]+))?$/.exec(path)))
    return <InstanceDetail id={decodeURIComponent(m[1])} tab={m[2] || 'details'} />;
  if (path === '/ram/users') return <Users />;
  if ((m = /^\/ram\/users\/([^/]+)$/.exec(path))) return <UserDetail name={decodeURIComponent(m[1])} />;
  if (path === '/ram/groups') return <Groups />;
  if (path === '/ram/roles') return <Roles />;
  if (path === '/ram/policies') return <Policies />;
  if (path === '/ram/policies/new') return <PolicyEditor />;
  if (path === '/resource-groups') return <ResourceGroups />;
  if (path === '/audit') return <Audit />;
  if (path === '/security' && session.principal.kind === 'User') return <SecuritySettings user={session.principal.name} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no console page at <code>{path}</code>. <Link to="/">Go to the Overview</Link>.
      </p>
    </section>
  );
}

function isActive(path: string, to: string) {
  if (to === '/') return path === '/' || path === '/overview';
  return path === to || path.startsWith(to + '/');
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { path } = useRoute();
  const p = session.principal;
  // On a narrow screen the navigation is behind a Menu button (CSS shows it
  // there only); following a link closes it again.
  const [navOpen, setNavOpen] = useState(false);
  useEffect(() => setNavOpen(false), [path]);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link to="/" class="brand">
          <span class="logo" aria-hidden="true">
            ◆
          </span>{' '}
          Sluice <span class="muted">ApsaraMQ for MQTT</span>
        </Link>
        <button
          type="button"
          class="btn nav-toggle"
          aria-expanded={navOpen}
          aria-controls="sidenav"
          onClick={() => setNavOpen(!navOpen)}
        >
          Menu
        </button>
        <div class="who">
          <span title={p.arn} data-testid="principal">
            {p.kind === 'Root' ? 'Root account' : 'RAM user'} · <strong>{p.displayName || p.name}</strong>{' '}
            <span class="muted small">({p.accountId})</span>
          </span>
          {p.kind === 'User' && (
            <Link to="/security" class="btn">
              Security settings
            </Link>
          )}
          <button type="button" class="btn" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <div class="body">
        <nav id="sidenav" class="sidenav" data-open={navOpen ? 'true' : 'false'} aria-label="Console navigation">
          {NAV.map((s) => (
            <div class="nav-section">
              <h2>{s.section}</h2>
              <ul>
                {s.items.map((i) => (
                  <li>
                    <Link to={i.to} class="nav-link" aria-current={isActive(path, i.to) ? 'page' : undefined}>
                      {i.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <main id="main" tabIndex={-1}>
          {route(path, session)}
        </main>
      </div>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  // Why the last session ended, when the server said (shown on the sign-in page).
  const [ended, setEnded] = useState('');
  const { path } = useRoute();
  useEffect(() => {
    onSessionLost((why) => {
      if (why.code === 'SessionEnded') setEnded(why.message);
      setSession(null);
    });
    getSession().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined)
    return (
      <main id="main">
        <Loading />
      </main>
    );
  if (!session || path === '/signin')
    return (
      <SignIn
        notice={ended}
        onSignedIn={(s) => {
          setEnded('');
          setSession(s);
          if (path === '/signin') navigate('/', true);
        }}
      />
    );
  if (session.mustChangePassword)
    return <ChangePassword session={session} onDone={() => setSession({ ...session, mustChangePassword: false })} />;
  if (session.mustBindMfa)
    return (
      <MfaRequired
        user={session.principal.name}
        onSignOut={async () => {
          await logout().catch(() => {});
          setSession(null);
        }}
      />
    );
  return (
    <Shell
      session={session}
      onSignOut={async () => {
        await logout().catch(() => {});
        setSession(null);
        navigate('/', true);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
