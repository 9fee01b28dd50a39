// placeholder
export default function Page() {
  return <div className="page">settings-page</div>;
}
