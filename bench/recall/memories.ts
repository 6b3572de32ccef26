// The memories of the recall benchmark: what an assistant working for Dana Whitfield (a customer
// success manager at Brightline, a workforce-scheduling SaaS) would have stored over a few months:
// her preferences, facts about twenty customer accounts, projects, meetings, support history and
// team facts. Written by hand; many share words on purpose (every account has a contact
// preference, a renewal and a billing note; several meetings, outages and deadlines), so a ranking
// has to tell them apart. Ids are readable so that the labels in questions.ts can be checked.

export interface RecallMemory {
  id: string;
  content: string;
}

const accounts: [string, string][] = [
  // Acme Corp
  [
    'acme-profile',
    'Acme Corp is a manufacturing company headquartered in Chicago; their planners work on Central time.',
  ],
  [
    'acme-contract',
    'Acme Corp is on the Enterprise plan with 450 seats. The contract renews in March and they pay by wire transfer on net-60 terms.',
  ],
  ['acme-contact', 'Our main contact at Acme Corp is Maria Lopez, VP of Operations.'],
  ['acme-channel', 'Maria Lopez at Acme wants updates by email only and dislikes unscheduled phone calls.'],
  ['acme-usage', 'Acme uses shift scheduling the most and keeps asking for an export to SAP for their payroll team.'],
  // Globex
  ['globex-profile', 'Globex is an energy company based in Houston, Texas.'],
  [
    'globex-contract',
    'Globex has 120 seats on the Business plan, billed monthly to a corporate credit card; renewal is in July.',
  ],
  ['globex-contact', 'Hank Scorpio is the CEO of Globex and signs off on every purchase himself.'],
  ['globex-channel', 'Hank at Globex likes a short phone call on his mobile instead of long email threads.'],
  ['globex-usage', 'Globex relies on the capacity dashboards and requested single sign-on with Okta.'],
  // Initech
  ['initech-profile', 'Initech is a mid-sized software firm in Austin.'],
  ['initech-contract', 'Initech is a Starter plan account with 35 seats; their annual contract renews every January.'],
  ['initech-contact', 'Bill Lumbergh, Director of Engineering, is our champion at Initech.'],
  ['initech-channel', 'Bill Lumbergh prefers messages in our shared Slack Connect channel rather than email.'],
  ['initech-usage', 'Initech mostly uses the report templates and has asked twice for a dark theme.'],
  // Umbrella Health
  [
    'umbrella-profile',
    'Umbrella Health runs a network of hospitals around Boston; their staff schedules nurses across 14 sites.',
  ],
  [
    'umbrella-contract',
    'Umbrella Health: Enterprise, 900 seats, renewal in October, paid against purchase orders that must quote the PO number.',
  ],
  ['umbrella-contact', 'Dr. Alice Abernathy, the chief medical information officer, owns the Umbrella Health account.'],
  [
    'umbrella-channel',
    'Umbrella Health only accepts contact through their vendor ticket portal because of their HIPAA policy.',
  ],
  [
    'umbrella-usage',
    'Umbrella Health uses on-call rotations heavily and needs audit log exports for compliance reviews.',
  ],
  // Hooli
  ['hooli-profile', 'Hooli is a large tech company in Palo Alto, Pacific time.'],
  [
    'hooli-contract',
    'Hooli has 2,000 seats on Enterprise; the contract renews in February and procurement negotiates hard on price.',
  ],
  ['hooli-contact', 'Denise Kim, Head of IT, is the decision maker at Hooli.'],
  ['hooli-channel', 'Denise Kim asks for a Google Meet video call for anything longer than a paragraph.'],
  ['hooli-usage', 'Hooli integrates through our API and asked for higher rate limits on the bulk endpoints.'],
  // Vandelay Imports
  ['vandelay-profile', 'Vandelay Imports is a small import and export business in New York.'],
  ['vandelay-contract', 'Vandelay Imports: Business plan, 80 seats, renews in May, pays by ACH.'],
  ['vandelay-contact', 'Art Vandelay owns Vandelay Imports and is the only person who makes decisions there.'],
  ['vandelay-channel', 'Art Vandelay answers text messages within minutes, while his email sits unread for days.'],
  ['vandelay-usage', 'Vandelay uses the warehouse shift templates and the mobile clock-in app.'],
  // Stark Logistics
  ['stark-profile', 'Stark Logistics is a shipping and freight company in Seattle.'],
  ['stark-contract', 'Stark Logistics has 260 seats on the Business plan and renews in September.'],
  ['stark-contact', 'Pepper Ortiz is the COO of Stark Logistics and our executive sponsor there.'],
  ['stark-channel', 'Pepper Ortiz wants a weekly written summary sent by email every Monday morning.'],
  ['stark-usage', 'Stark Logistics uses route-based shift planning and wants better overtime forecasting.'],
  // Wayne Foods
  [
    'wayne-profile',
    'Wayne Foods is a food distributor based in Pittsburgh with cold-storage warehouses in three states.',
  ],
  [
    'wayne-contract',
    'Wayne Foods is on Enterprise with 700 seats; renewal is in November and invoices go to their accounts payable team on net-30.',
  ],
  ['wayne-contact', 'Lucius Grant, the CFO, is the economic buyer at Wayne Foods.'],
  ['wayne-channel', 'Lucius Grant prefers formal letters attached to an email, always copying his assistant Martha.'],
  ['wayne-usage', 'Wayne Foods tracks labour cost per warehouse with our budgeting module.'],
  // Soylent Labs
  ['soylent-profile', 'Soylent Labs is a nutrition startup in Portland, Oregon.'],
  ['soylent-contract', 'Soylent Labs pays monthly for 20 Starter seats; first renewal is in April.'],
  ['soylent-contact', 'Priya Nair, the founder, handles everything at Soylent Labs herself.'],
  ['soylent-channel', 'Priya Nair is easiest to reach on WhatsApp; she travels a lot.'],
  ['soylent-usage', 'Soylent Labs only uses basic scheduling and is a candidate for an upsell to Business.'],
  // Pied Piper
  ['piedpiper-profile', 'Pied Piper is a compression software company in San Francisco.'],
  ['piedpiper-contract', 'Pied Piper: 60 seats on Business, renews in June.'],
  ['piedpiper-contact', 'Richard Hendricks, co-founder and CTO, is our contact at Pied Piper.'],
  ['piedpiper-channel', 'Richard Hendricks prefers short recorded Loom videos to live meetings.'],
  ['piedpiper-usage', 'Pied Piper wants webhooks for every schedule change so their own tools stay in sync.'],
  // Cyberdyne Robotics
  ['cyberdyne-profile', 'Cyberdyne Robotics builds industrial robots in Denver.'],
  ['cyberdyne-contract', 'Cyberdyne Robotics has 1,100 seats on Enterprise with a renewal in August.'],
  ['cyberdyne-contact', 'Miles Dyson, Director of Research, is the sponsor at Cyberdyne.'],
  ['cyberdyne-channel', 'Miles Dyson wants all communication in a Microsoft Teams chat with his team.'],
  ['cyberdyne-usage', 'Cyberdyne schedules lab equipment as well as people and asked for resource booking.'],
  // Tyrell Biotech
  ['tyrell-profile', 'Tyrell Biotech is a biotech research company in Los Angeles.'],
  ['tyrell-contract', 'Tyrell Biotech has 150 seats on Business; the contract renews in December.'],
  ['tyrell-contact', 'Rachael Tyrell, Head of People, manages the Tyrell Biotech account.'],
  ['tyrell-channel', 'Rachael at Tyrell Biotech can only take phone calls between 2 and 4 pm Pacific.'],
  ['tyrell-usage', 'Tyrell Biotech uses time-off requests and approval workflows the most.'],
  // Wonka Confections
  ['wonka-profile', 'Wonka Confections is a candy maker with one large factory near Minneapolis.'],
  ['wonka-contract', 'Wonka Confections: Starter plan, 45 seats, renews in March, pays by cheque.'],
  ['wonka-contact', 'Charlie Bucket, the operations manager, is our day-to-day contact at Wonka.'],
  [
    'wonka-channel',
    "Charlie Bucket asks that we write to Wonka's shared operations inbox instead of his personal address.",
  ],
  ['wonka-usage', 'Wonka Confections runs seasonal shift patterns and needs bulk schedule imports before holidays.'],
  // Oceanic Airlines
  ['oceanic-profile', 'Oceanic Airlines is an airline headquartered in Sydney, Australia.'],
  ['oceanic-contract', 'Oceanic Airlines is our largest account: 3,000 Enterprise seats, renewal in January.'],
  ['oceanic-contact', 'Kate Austen, Crew Scheduling Lead, is the main user at Oceanic Airlines.'],
  [
    'oceanic-channel',
    'Kate Austen prefers calls early in her morning, which is our late evening because of the time difference.',
  ],
  ['oceanic-usage', 'Oceanic Airlines schedules cabin crew with fatigue rules and needs roster compliance checks.'],
  // Gringotts Bank
  ['gringotts-profile', 'Gringotts Bank is a private bank in London.'],
  [
    'gringotts-contract',
    'Gringotts Bank has 1,500 Enterprise seats and renews in April; they pay annually in advance.',
  ],
  ['gringotts-contact', 'Bill Weasley, IT Risk Manager, is our counterpart at Gringotts Bank.'],
  ['gringotts-channel', 'Gringotts Bank requires encrypted email for anything containing staff data.'],
  ['gringotts-usage', 'Gringotts Bank asked for data residency in the EU and a penetration test report.'],
  // Monarch Solar
  ['monarch-profile', 'Monarch Solar installs solar farms and is based in Phoenix, Arizona.'],
  ['monarch-contract', 'Monarch Solar has 90 Business seats and renews in October.'],
  ['monarch-contact', 'Elena Ruiz, Field Operations Manager, is the contact at Monarch Solar.'],
  [
    'monarch-channel',
    'Elena Ruiz is usually out on installation sites, so leave her a voicemail and she calls back the same day.',
  ],
  ['monarch-usage', 'Monarch Solar needs offline mode in the mobile app for crews without signal.'],
  // Nakatomi Trading
  ['nakatomi-profile', 'Nakatomi Trading is a trading house headquartered in Tokyo.'],
  ['nakatomi-contract', 'Nakatomi Trading: 800 Enterprise seats, renews in June, invoiced in yen.'],
  ['nakatomi-contact', 'Mr. Takagi, General Manager of the Los Angeles branch, is our sponsor at Nakatomi.'],
  [
    'nakatomi-channel',
    'Mr. Takagi expects formal written correspondence in both Japanese and English, with meeting invitations a week ahead.',
  ],
  ['nakatomi-usage', 'Nakatomi Trading uses multi-site rosters across Tokyo, Osaka and Los Angeles.'],
  // Duff Beverages
  ['duff-profile', 'Duff Beverages is a brewery and bottling company in Milwaukee.'],
  ['duff-contract', 'Duff Beverages has 200 Business seats with a renewal in August.'],
  ['duff-contact', 'Lenny Ford, the plant manager, is our contact at Duff Beverages.'],
  ['duff-channel', 'Lenny Ford likes an in-person visit every quarter and a phone call otherwise.'],
  ['duff-usage', 'Duff Beverages uses shift swaps a lot and wants a limit on swaps per week.'],
  // Massive Dynamic
  ['massive-profile', 'Massive Dynamic is a research conglomerate in New York City.'],
  ['massive-contract', 'Massive Dynamic: 1,800 Enterprise seats, renewal in May, three-year term.'],
  ['massive-contact', 'Nina Sharp, the chief operating officer, is the sponsor at Massive Dynamic.'],
  ['massive-channel', 'Nina Sharp is reached only through her chief of staff, Brandon, who books her calendar.'],
  ['massive-usage', 'Massive Dynamic asked for custom roles so lab leads can approve their own schedules.'],
  // Aperture Science
  ['aperture-profile', 'Aperture Science is a testing laboratory in Cleveland, Ohio.'],
  ['aperture-contract', 'Aperture Science has 25 Starter seats and renews in November.'],
  ['aperture-contact', 'Caroline Johnson, the lab director, runs the Aperture Science account.'],
  [
    'aperture-channel',
    'Caroline Johnson keeps a shared document of open questions and reviews it with us on a fortnightly call.',
  ],
  ['aperture-usage', 'Aperture Science uses availability polls to plan weekend test sessions.'],
];

const preferences: [string, string][] = [
  ['pref-coffee', 'Dana drinks her coffee black, no sugar; a flat white if the place has no filter coffee.'],
  ['pref-tea', 'In the afternoon Dana switches to peppermint tea.'],
  ['pref-meetings-morning', 'Dana prefers to hold customer meetings in the morning, before noon Lisbon time.'],
  ['pref-no-friday', 'No internal meetings on Friday afternoons: Dana keeps them for writing and planning.'],
  ['pref-focus', 'Dana blocks 9 to 11 every weekday as focus time and declines invitations that overlap it.'],
  ['pref-timezone', 'Dana lives in Lisbon and works on Western European Time.'],
  ['pref-spelling', 'Dana writes in British English: colour, organise, programme.'],
  ['pref-summaries', 'Dana wants summaries as short bullet points with the decision first, no long paragraphs.'],
  ['pref-diet', 'Dana is vegetarian and does not eat fish either.'],
  ['pref-allergy', 'Dana is allergic to peanuts; always mention it when booking a team dinner.'],
  ['pref-flight-seat', 'On flights Dana books an aisle seat near the front of the plane.'],
  ['pref-airline', 'Dana collects miles with TAP Air Portugal and prefers Star Alliance carriers.'],
  ['pref-hotel', 'For hotels Dana prefers somewhere walkable to the customer office, with a gym.'],
  ['pref-internal-chat', 'For internal questions Dana would rather get a Slack message than an email.'],
  ['pref-dark-mode', 'Dana uses dark mode everywhere and finds bright dashboards tiring.'],
  ['pref-name', "Dana's surname is pronounced WIT-field; the h is silent."],
  ['pref-pickup', 'On Wednesdays Dana leaves at 16:30 to pick up her son from school.'],
  ['pref-bike', 'Dana cycles to the office, so meetings before 9 are hard on rainy days.'],
  ['pref-notes', 'Dana takes meeting notes in Notion and wants action items copied to Linear.'],
  ['pref-calendar', "Dana's calendar of record is Google Calendar; do not send Outlook invitations to her."],
  ['pref-reminders', 'Remind Dana of customer renewals 90 days ahead, not 30.'],
  ['pref-gifts', 'Dana likes sending customers a handwritten card rather than branded merchandise.'],
  ['pref-music', 'Dana listens to jazz while working and likes the Hot Club of Lisbon.'],
  ['pref-language', 'Dana speaks Portuguese, English and some Spanish.'],
  ['pref-weekend', 'Do not message Dana on weekends unless a customer is down.'],
  ['pref-laptop', 'Dana works on a 14-inch MacBook Pro and an external monitor at home.'],
];

const team: [string, string][] = [
  ['team-manager', "Dana's manager is Tomas Berg, VP of Customer Success."],
  ['team-se', 'Leila Haddad is the solutions engineer who joins Dana on technical customer calls.'],
  ['team-support-lead', 'Owen Price leads the support team and owns the escalation rota.'],
  ['team-ae', 'Marcus Chen is the account executive for enterprise renewals in North America.'],
  ['team-pm', 'Sofia Rossi is the product manager for scheduling and takes feature requests.'],
  ['team-billing', 'Questions about invoices and refunds go to Hannah Okafor in finance.'],
  ['team-legal', 'Contract redlines go to Jonas Weber in legal; he needs five working days.'],
  ['team-security', 'Security questionnaires are answered by Ravi Patel on the security team.'],
  ['team-tomas-ooo', 'Tomas is on parental leave from 1 December until the end of February.'],
  ['team-leila-ooo', 'Leila Haddad will be on holiday in Morocco for the last two weeks of August.'],
  ['team-birthday-leila', "Leila's birthday is on 14 May; she likes dark chocolate."],
  ['team-birthday-owen', "Owen's birthday is 3 October."],
  ['team-new-hire', 'A new CSM, Grace Liu, starts on 6 January and will shadow Dana for a month.'],
  ['team-oncall', 'The support on-call phone number is in the #support-oncall channel topic.'],
  ['team-standup', 'The customer success team stand-up is at 10:00 on Tuesdays and Thursdays.'],
  ['team-offsite', 'The team offsite is planned for March in Porto; Sofia is organising it.'],
  ['team-marcus-style', 'Marcus Chen likes to discount early in negotiations; Dana prefers to hold price.'],
  ['team-hannah-hours', 'Hannah Okafor works part-time, Monday to Wednesday.'],
];

const projects: [string, string][] = [
  ['atlas-goal', 'Project Atlas moves our reporting from the old Postgres replica to a BigQuery data warehouse.'],
  ['atlas-owner', 'Atlas is owned by the data platform team; Ingrid Sato is the tech lead.'],
  ['atlas-deadline', 'Atlas must be finished by 30 April, when the old replica is switched off.'],
  ['atlas-risk', 'Biggest risk on Atlas: dashboards built by customers on the old replica will break.'],
  ['atlas-status', 'Atlas status last week: 60% of the tables migrated, the billing tables still pending.'],
  ['atlas-customers', 'Acme and Hooli both have custom reports that depend on the old replica.'],
  ['phoenix-goal', 'Project Phoenix is the redesign of the mobile app: new clock-in flow and offline support.'],
  ['phoenix-owner', 'Phoenix is led by Sofia Rossi with the mobile team in Warsaw.'],
  ['phoenix-beta', 'The Phoenix beta opens to ten customers in February; Monarch Solar asked to be one of them.'],
  ['phoenix-deadline', 'Phoenix has to ship before the summer season, so the launch date is 2 June.'],
  ['phoenix-feedback', 'Beta testers said the new clock-in button is too small on older Android phones.'],
  [
    'onboarding-goal',
    'The onboarding revamp cuts time-to-first-schedule from two weeks to two days with guided setup.',
  ],
  ['onboarding-owner', 'Dana owns the onboarding revamp together with Grace Liu.'],
  ['onboarding-metric', 'Target for the onboarding revamp: 80% of new accounts publish a schedule within 48 hours.'],
  ['onboarding-template', 'The welcome email template for new customers was rewritten in October.'],
  ['sso-rollout', 'SAML single sign-on is generally available since September; Okta and Azure AD are tested.'],
  ['sso-pricing', 'SSO is included in Enterprise and costs extra on the Business plan.'],
  ['pricing-experiment', 'Marketing is testing a new pricing page with annual billing shown first.'],
  ['okr-q1', 'Dana’s Q1 objective: gross revenue retention above 95% for her book of business.'],
  ['okr-nps', 'Second objective: raise NPS of enterprise accounts from 31 to 40.'],
  ['qbr-template', 'Quarterly business review decks use the template in the CS shared drive, max 12 slides.'],
  ['health-score', 'Account health score combines weekly active users, support tickets and renewal date.'],
  ['churn-risk-list', 'Accounts flagged at risk this quarter: Soylent Labs, Aperture Science and Duff Beverages.'],
  ['api-v2', 'API v2 deprecates the old bulk endpoints at the end of June; Hooli must migrate before then.'],
  ['webhooks-launch', 'Webhooks for schedule changes launch in beta in March.'],
  ['data-residency', 'An EU data region is planned for the second half of the year, no firm date yet.'],
];

const meetings: [string, string][] = [
  [
    'mtg-acme-qbr',
    'Acme QBR on 12 February: Maria was happy with adoption but worried about the SAP export; we promised a prototype by April.',
  ],
  [
    'mtg-acme-escalation',
    'Call with Acme about the January outage: they want a credit and a written root-cause analysis.',
  ],
  [
    'mtg-globex-kickoff',
    'Kick-off with Globex in November: Hank wants the capacity dashboards live for the winter demand peak.',
  ],
  [
    'mtg-hooli-renewal',
    'Hooli renewal meeting: Denise asked for a 15% discount; Marcus offered 8% for a two-year term.',
  ],
  ['mtg-hooli-api', 'Technical session with Hooli engineers on migrating to API v2; Leila will send sample code.'],
  [
    'mtg-umbrella-security',
    'Security review with Umbrella Health: they need our SOC 2 report and a signed business associate agreement.',
  ],
  ['mtg-stark-weekly', 'Weekly sync with Stark Logistics moved from Tuesday to Thursday at 17:00 Lisbon time.'],
  [
    'mtg-oceanic-roster',
    'Workshop with Oceanic Airlines on crew fatigue rules; they need the 10-hour rest rule enforced.',
  ],
  [
    'mtg-nakatomi-intro',
    'First meeting with Nakatomi Trading in Los Angeles: they valued punctuality and printed agendas.',
  ],
  [
    'mtg-tyrell-timeoff',
    'Tyrell Biotech demo of approval workflows went well; Rachael wants two-level approvals for long leave.',
  ],
  [
    'mtg-duff-visit',
    'Visited the Duff Beverages plant: Lenny complained that shift swaps are abused by a few workers.',
  ],
  [
    'mtg-soylent-checkin',
    'Check-in with Priya at Soylent Labs: usage dropped after their layoffs, she is unsure about renewing.',
  ],
  [
    'mtg-aperture-review',
    'Fortnightly review with Aperture Science: weekend polls work, but they want reminders for people who did not answer.',
  ],
  [
    'mtg-massive-exec',
    'Executive meeting with Massive Dynamic set up through Brandon; Nina agreed to pilot custom roles.',
  ],
  [
    'mtg-cs-planning',
    'CS planning meeting decided that every enterprise account gets a QBR each quarter, others twice a year.',
  ],
  ['mtg-pricing-review', 'Pricing review: leadership decided not to raise list prices this year, only the SSO add-on.'],
  [
    'mtg-product-sync',
    'Monthly product sync with Sofia: the top three requests are SAP export, dark theme and offline mode.',
  ],
  [
    'mtg-atlas-review',
    'Atlas review meeting: Ingrid asked CS to list every customer with custom reports by end of March.',
  ],
  [
    'mtg-phoenix-demo',
    'Phoenix demo day: offline clock-in works; sync conflicts are resolved by last write wins for now.',
  ],
  [
    'mtg-one-on-one',
    'One-on-one with Tomas: he wants Dana to mentor Grace and to present the churn analysis at the all-hands.',
  ],
  [
    'mtg-gringotts-dpa',
    'Call with Gringotts Bank about the data processing agreement: they insist on EU-only storage.',
  ],
  ['mtg-piedpiper-webhooks', 'Pied Piper call: Richard will join the webhooks beta and wants HMAC-signed payloads.'],
  ['mtg-wayne-budget', 'Budget review with Wayne Foods: Lucius wants to cut seats to 600 unless labour costs fall.'],
  ['mtg-monarch-beta', 'Monarch Solar joined the Phoenix beta; Elena will test offline clock-in with two field crews.'],
  ['mtg-allhands', 'All-hands is the first Thursday of each month at 16:00 Lisbon time.'],
];

const support: [string, string][] = [
  [
    'sup-outage-jan',
    'On 18 January the scheduling service was down for three hours because of a failed database migration.',
  ],
  ['sup-outage-credit', 'Acme received a 10% service credit on their next invoice for the January outage.'],
  [
    'sup-outage-june',
    'A short outage on 4 June hit the mobile app only: push notifications were delayed by about 40 minutes.',
  ],
  ['sup-rca', 'The root-cause analysis for the January incident was sent to all Enterprise customers on 25 January.'],
  [
    'sup-umbrella-ticket',
    'Umbrella Health ticket: nurses in two hospitals saw each other’s shifts; fixed by correcting site permissions.',
  ],
  [
    'sup-hooli-ratelimit',
    'Hooli hit the API rate limit during their nightly sync; support raised their limit temporarily.',
  ],
  [
    'sup-globex-sso',
    'Globex could not log in with Okta after a certificate rotation; solved by uploading the new signing certificate.',
  ],
  ['sup-vandelay-billing', 'Vandelay Imports was charged twice in May; Hannah refunded the duplicate payment.'],
  ['sup-wonka-import', 'Wonka’s holiday schedule import failed on a CSV with semicolons; support converted the file.'],
  [
    'sup-oceanic-timezone',
    'Oceanic Airlines reported shifts shown one hour off after the daylight saving change in Sydney.',
  ],
  [
    'sup-cyberdyne-booking',
    'Cyberdyne asked support how to book lab equipment; there is no resource booking feature yet.',
  ],
  [
    'sup-stark-export',
    'Stark Logistics could not export overtime reports to Excel; a bug in the date format, fixed in 4.12.',
  ],
  ['sup-tyrell-approvals', 'Tyrell Biotech reported that approval emails went to managers who had left the company.'],
  [
    'sup-initech-password',
    'Initech users were locked out after too many password attempts; the lockout is 15 minutes.',
  ],
  ['sup-duff-swaps', 'Duff Beverages asked support to cap shift swaps; advised a workaround with approval rules.'],
  ['sup-soylent-cancel', 'Soylent Labs asked how to cancel; Dana offered a downgrade to fewer seats instead.'],
  ['sup-massive-roles', 'Massive Dynamic reported that lab leads cannot approve schedules without admin rights.'],
  ['sup-gringotts-pentest', 'Sent Gringotts Bank the summary of our latest penetration test under NDA.'],
  ['sup-nakatomi-invoice', 'Nakatomi Trading’s invoice in yen had the wrong exchange rate; finance reissued it.'],
  [
    'sup-monarch-offline',
    'Monarch Solar crews lose clock-ins when there is no signal; offline mode will fix it in Phoenix.',
  ],
  ['sup-sla', 'Enterprise support SLA: first response within one hour for urgent tickets, 24/7.'],
  ['sup-sla-business', 'Business plan support answers within one business day, weekdays only.'],
  ['sup-refund-policy', 'Refunds are only given for billing mistakes; unused seats are not refunded mid-term.'],
  [
    'sup-escalation',
    'To escalate a ticket, page Owen Price through the escalation rota and post in #support-escalations.',
  ],
];

const other: [string, string][] = [
  ['issue-example', 'Customer prefers email contact'],
  ['misc-office-lisbon', 'The Lisbon office is on Rua Augusta, third floor; the door code changes monthly.'],
  ['misc-wifi', 'Guest wifi in the Lisbon office is Brightline-Guest; the password is on the kitchen wall.'],
  ['misc-expenses', 'Expenses are submitted in Expensify by the 5th of the following month.'],
  ['misc-travel-policy', 'Company travel policy: economy class for flights under six hours.'],
  ['misc-conference', 'Dana is speaking at SaaStr Europa in Barcelona in June about customer retention.'],
  ['misc-crm', 'Customer notes live in Salesforce; the assistant should not copy them into emails.'],
  ['misc-email-signature', 'Email signature: Dana Whitfield, Senior Customer Success Manager, Brightline.'],
  ['misc-phone', "Dana's work mobile is for customers; her personal number is not to be shared."],
  ['misc-holidays', 'Portuguese public holidays apply to Dana; 13 June is a local holiday in Lisbon.'],
  ['misc-book', 'Dana is reading "The Effective Executive" and wants a reminder to finish it.'],
  ['misc-gym', 'Dana goes to the gym on Tuesday and Thursday evenings.'],
  ['misc-car', "Dana's car is in for service on 20 March; she will take the train that week."],
  ['misc-newsletter', 'The customer newsletter goes out on the first Tuesday of each month.'],
  ['misc-webinar', 'Monthly customer webinar on scheduling best practices; next topic is overtime rules.'],
  ['misc-survey', 'The annual customer survey closes on 15 March; remind accounts with low response rates.'],
  ['misc-brand', 'Always write Brightline with a lower-case l, never BrightLine.'],
  ['misc-contract-template', 'Use the 2024 master subscription agreement for new Enterprise contracts.'],
  ['misc-discount-policy', 'Discounts above 10% need approval from Tomas; above 20% from the CFO.'],
  ['misc-reference', 'Acme and Oceanic Airlines agreed to act as reference customers for prospects.'],
  ['misc-case-study', 'Marketing is writing a case study with Stark Logistics about overtime savings.'],
  ['misc-slack-etiquette', 'Use threads in Slack channels; do not post customer data in public channels.'],
];

// Everyday notes that share words with the questions without answering them (a few do: their
// labels are in questions.ts).
const notes: [string, string][] = [
  ['note-contact-form', 'The contact form on the Brightline website sends leads to the sales team, not to CS.'],
  ['note-contact-list', 'Update the customer contact list in Salesforce after every QBR.'],
  ['note-email-digest', 'Dana prefers the weekly product digest email over daily notifications.'],
  ['note-coffee-machine', 'The coffee machine on the third floor is broken; use the one in the kitchen.'],
  ['note-nakatomi-tea', 'At the Nakatomi meeting they preferred green tea to coffee.'],
  ['note-flight-booking', 'Flights are booked through the company travel portal, Navan.'],
  ['note-barcelona-hotel', 'Hotel for SaaStr Europa in Barcelona is booked near Plaça Espanya for three nights.'],
  ['note-friday-demos', 'Product demos for customers are recorded on Fridays by the marketing team.'],
  ['note-wednesday-release', 'Releases go out on Wednesday mornings; avoid promising fixes for the same day.'],
  ['note-session-timeout', 'Browser sessions time out after 12 hours and users must log in again.'],
  ['note-tyrell-sso', 'Tyrell Biotech set up single sign-on with Azure AD without help from support.'],
  ['note-renewal-quotes', 'Renewal quotes are generated in Salesforce CPQ and sent by the account executive.'],
  ['note-seat-true-up', 'Seat counts are trued up quarterly; customers pay for extra seats at the contract price.'],
  ['note-invoice-format', 'Invoices are PDF files sent from the billing address on the first of the month.'],
  ['note-po-process', 'Customers who pay by purchase order must send the PO before we issue the invoice.'],
  ['note-data-export', 'Any customer can export all their data as CSV from the settings page.'],
  ['note-gdpr', 'Our GDPR sub-processor list is on the trust page; customers are notified 30 days before changes.'],
  ['note-app-rating', 'The mobile app is rated 4.3 in the App Store; the most common complaint is slow loading.'],
  ['note-android', 'The minimum supported Android version is 9; older phones get a warning at login.'],
  ['note-incident-process', 'Incidents are declared in #incidents; the status page is updated every 30 minutes.'],
  ['note-dns-outage', 'In March a DNS misconfiguration made the login page unreachable for 20 minutes.'],
  ['note-safari-login', 'Some Safari users got a login loop after the cookie change; clearing cookies fixed it.'],
  ['note-rate-limits', 'The default API rate limit is 600 requests per minute per customer.'],
  ['note-acme-discount', 'Last year Acme got a 12% discount for a three-year renewal.'],
  ['note-tomas-manager', 'Tomas reports to the Chief Customer Officer, Abigail Moore.'],
  ['note-sales-hires', 'Two new account executives join the sales team in February.'],
  ['note-feedback-board', 'Customer ideas are collected on the public feedback board and reviewed monthly.'],
  ['note-security-page', 'The security page lists our SOC 2 Type II and ISO 27001 certificates.'],
  ['note-tomas-updates', 'Tomas prefers a written update in Slack over a meeting.'],
  ['note-leila-prep', 'Leila likes to get the customer’s technical questions by email a day before a call.'],
  ['note-engineer-phones', 'Never give customers the personal phone numbers of engineers.'],
  ['note-kickoff-call', 'Every new account gets a 60-minute kickoff call in its first week.'],
  ['note-team-drinks', 'Grace drinks oat-milk lattes and Owen only drinks tea.'],
  ['note-team-dinner', 'The last team dinner was at a restaurant in Alfama; everyone liked it.'],
  ['note-weekly-report', 'Dana sends Tomas a weekly report of renewals and risks every Friday.'],
  ['note-airline-prospect', 'A second airline, Ajira Airways, is a prospect; Marcus has a demo with them in May.'],
  ['note-hospital-prospect', 'Mercy General, a hospital in Sacramento, asked for a trial.'],
  ['note-bank-prospect', 'A Swiss private bank asked whether we can host their data in Switzerland.'],
  ['note-tokyo-trip', 'Marcus is planning a trip to Tokyo in April to meet prospects.'],
  ['note-portland-meetup', 'Brightline sponsors a customer meetup in Portland in September.'],
  ['note-energy-vertical', 'Energy and utilities are a target vertical for next year.'],
  ['note-warehouse-churn', 'Warehouse customers churn more often than manufacturing ones.'],
  ['note-loom', 'The team uses Loom for internal demos; recordings older than a year are deleted.'],
  ['note-whatsapp-policy', 'Customer conversations on WhatsApp must be summarised in Salesforce.'],
  ['note-teams', 'Brightline uses Slack internally; Microsoft Teams only for customers who require it.'],
  ['note-voicemail', 'Dana’s voicemail greeting was updated in October.'],
  ['note-encrypted-email', 'Encrypted email is sent with the Virtru plugin in Gmail.'],
  ['note-app-name', 'The mobile app is called Brightline Shifts on both app stores.'],
  ['note-atlas-sheet', 'Atlas is also the name of the sales territory planning sheet; do not confuse the two.'],
  ['note-monarch-depot', 'Monarch Solar also runs an equipment depot in Tucson.'],
  ['note-api-docs', 'API documentation shows a deprecation banner on every v1 page.'],
  ['note-credit-cap', 'Service credits are capped at 20% of the monthly fee.'],
  [
    'note-churn-playbook',
    'The churn playbook: executive call, usage review, then a save offer of up to two free months.',
  ],
  ['note-swap-approval', 'Shift swaps need manager approval only if the account turns that setting on.'],
  ['note-resource-roadmap', 'Resource booking is on the roadmap for the second half of the year.'],
  ['note-dark-theme-plan', 'A dark theme for the web app is planned after the Phoenix launch.'],
  ['note-security-training', 'Annual security awareness training is due by 31 January for all staff.'],
  ['note-finance-close', 'Finance closes the books on the third working day of each month.'],
  ['note-parking', 'Visitor parking at the Lisbon office must be booked a day ahead with reception.'],
];

export const memories: RecallMemory[] = [
  ...accounts,
  ...preferences,
  ...team,
  ...projects,
  ...meetings,
  ...support,
  ...other,
  ...notes,
].map(([id, content]) => ({ id, content }));
