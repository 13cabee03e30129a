import type { ReactNode } from 'react';
import { ACTIVITY, NOTIFICATIONS, PAGE } from '../router.js';

/** The Settings pages, in the order the sub-navigation lists them. */
const SETTINGS_PAGES: ReadonlyArray<{ href: string; title: string }> = [
  { href: PAGE, title: 'SIEM Forwarding' },
  { href: NOTIFICATIONS, title: 'Notifications' },
  { href: ACTIVITY, title: 'Activity' },
];

/** Every Settings page's head: the breadcrumb, the title and the sub-navigation, the current page marked. */
export function SettingsHeader({ current, navigate }: { current: string; navigate: (p: string) => void }) {
  const title = SETTINGS_PAGES.find((p) => p.href === current)?.title ?? '';
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <ol>
          <li>Settings</li>
          <li>
            <a
              href={current}
              aria-current="page"
              onClick={(e) => {
                e.preventDefault();
                navigate(current);
              }}
            >
              {title}
            </a>
          </li>
        </ol>
      </nav>
      <div className="page-head">
        <div>
          <h1>Settings</h1>
          <SettingsNav current={current} navigate={navigate} />
        </div>
      </div>
    </>
  );
}

/** The Settings sub-navigation: one link per page, the current one marked. */
function SettingsNav({ current, navigate }: { current: string; navigate: (p: string) => void }) {
  const link = (href: string, text: string) => (
    <a
      key={href}
      href={href}
      aria-current={current === href ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {text}
    </a>
  );
  return (
    <nav aria-label="Settings sections" className="subnav">
      {SETTINGS_PAGES.map((p) => link(p.href, p.title))}
    </nav>
  );
}

/**
 * A Settings page's own title. Focusable by script only (tabIndex -1, never in the Tab order), so that
 * a switch of page can put focus on it: focusPageHeading.
 */
export function PageHeading({ id, children }: { id: string; children: ReactNode }) {
  return (
    <h2 id={id} tabIndex={-1} data-page-heading>
      {children}
    </h2>
  );
}

/** Focuses the heading of the Settings page in view (the one PageHeading in the main landmark). */
export function focusPageHeading(): void {
  document.querySelector<HTMLElement>('#main [data-page-heading]')?.focus();
}
